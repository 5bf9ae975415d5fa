"""The phone's state and the phone-offline deadlines on both engines, acted on with the
clock given: an event only for an agent at the extension, a deadline planned and
cancelled, acted on once (a claim acted on twice, as by an instance that lost it, moves
the agent once)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, select

from agentstatus.app import open_database
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import PHONE_EVENT, PHONE_OFFLINE_REASON
from agentstatus.domain.phone_registration import PhoneSeen, PhoneState
from agentstatus.service import history, phone_registration
from agentstatus.service.deadlines import DeadlineRunner, claim_due
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.storage.database import reading
from agentstatus.storage.phone_states import PHONE_DEADLINE
from agentstatus.storage.schema import deadlines
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org

MINUTE = 60_000
DOWN, UP = PhoneState.UNREGISTERED, PhoneState.REGISTERED


@pytest.fixture
def engine_on(any_database_url: str) -> Iterator[Engine]:
    opened = open_database(any_database_url)
    yield opened
    opened.dispose()


@pytest.fixture
async def changes(any_database_url: str, engine_on: Engine) -> AsyncIterator[StatusChanges]:
    async with standalone_changes(any_database_url) as made:
        yield made


def _oid(engine: Engine, org: OrgFixture) -> int:
    with reading(engine) as conn:
        return org_id(conn, org.name)


async def _set(changes: StatusChanges, engine: Engine, org: OrgFixture, status: int) -> None:
    command = StatusCommand("101", "sip1", status, Source.ADMIN, org_id=_oid(engine, org))
    assert (await changes.apply(command)).row is Row.OK


def _planned(engine: Engine) -> list[tuple[int, int]]:
    with reading(engine) as conn:
        rows = conn.execute(
            select(deadlines.c.status, deadlines.c.due_ms).where(deadlines.c.kind == PHONE_DEADLINE)
        ).all()
    return [(int(r.status), int(r.due_ms)) for r in rows]


def _events(engine: Engine, org: OrgFixture) -> list[dict[str, object]]:
    found = history.read_history(engine, org.name, limit=1000).events
    return [json.loads(e.detail or "{}") for e in found if e.kind == PHONE_EVENT]


async def test_states_events_and_a_deadline_acted_on_once(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    oid = _oid(engine, org)
    phone_registration.set_phone_offline(engine, org.name, 60, 9)
    await _set(changes, engine, org, 1)
    # Nobody at sip2: the state only. The agent at sip1: the event, and its deadline.
    assert not phone_registration.store_phones(engine, oid, [PhoneSeen("sip2", DOWN)], 1000)
    assert phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", DOWN)], 5000)
    assert _events(engine, org) == [{"extension": "sip1", "phone": "unregistered"}]
    assert _planned(engine) == [(1, 5000 + MINUTE)]
    # The same state again is no change: no event, the deadline as it was.
    assert not phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", DOWN)], 9000)
    assert _planned(engine) == [(1, 5000 + MINUTE)]
    assert phone_registration.phones_of_org(engine, org.name) == {"sip1": DOWN, "sip2": DOWN}
    claimed = claim_due(engine, 5000 + MINUTE + 1, MINUTE)
    assert [d.kind for d in claimed] == [PHONE_DEADLINE]
    runner = DeadlineRunner(engine, changes, lambda _: None)
    await runner.act(claimed)
    await runner.act(claimed)  # a claim acted on again (an instance that lost it)
    moves = [
        e
        for e in history.read_history(engine, org.name, limit=1000).events
        if e.reason == PHONE_OFFLINE_REASON
    ]
    assert [(e.new_status, e.source, e.policy, e.due_ms) for e in moves] == [
        (9, "pbx", "phone-offline", 5000 + MINUTE)
    ]
    assert _planned(engine) == []


async def test_registering_again_or_the_policy_off_cancels(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    oid = _oid(engine, org)
    await _set(changes, engine, org, 1)
    # Off: the state and the event, no deadline.
    phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", DOWN)], 1000)
    assert _planned(engine) == []
    # Turned on while the phone is offline: planned from now (not from 1000).
    phone_registration.set_phone_offline(engine, org.name, 30, 9)
    [(status, due)] = _planned(engine)
    assert status == 1
    assert due > 1000 + 30_000
    phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", UP)], 2000)
    assert _planned(engine) == []
    phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", DOWN)], 3000)
    assert _planned(engine) == [(1, 33_000)]
    phone_registration.clear_phone_offline(engine, org.name)
    assert _planned(engine) == []
    assert [e["phone"] for e in _events(engine, org)] == [
        "unregistered",
        "registered",
        "unregistered",
    ]


async def test_a_deadline_overtaken_by_a_change_does_nothing(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    oid = _oid(engine, org)
    phone_registration.set_phone_offline(engine, org.name, 60, 9)
    await _set(changes, engine, org, 1)
    phone_registration.store_phones(engine, oid, [PhoneSeen("sip1", DOWN)], 1000)
    await _set(changes, engine, org, 3)  # Lunch break: the version moved on
    await DeadlineRunner(engine, changes, lambda _: None).act(
        claim_due(engine, 1000 + MINUTE + 1, MINUTE)
    )
    assert not [
        e
        for e in history.read_history(engine, org.name, limit=1000).events
        if e.reason == PHONE_OFFLINE_REASON
    ]
    assert _planned(engine) == []
