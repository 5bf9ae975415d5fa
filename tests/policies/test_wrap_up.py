"""Wrap-up and the next status on a real database, a call's end given through the same
service the phone-system link calls, and the deadline acted on with the clock given
(``claim_due(at=…)``): durable across restarts, acted on once, cancelled by a change."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import count

import orjson
import pytest
from sqlalchemy import Engine, select

from agentstatus.app import open_database
from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.wrap_up import WrapUpMode
from agentstatus.service import history, next_status, presence, wrap_up
from agentstatus.service.deadlines import CLAIM_SECONDS, DeadlineRunner, claim_due
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.storage.database import reading
from agentstatus.storage.schema import deadlines
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org

CLAIM = int(CLAIM_SECONDS * 1000)
_ids = count(1)


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
    result = await changes.apply(
        StatusCommand("101", "sip1", status, Source.ADMIN, org_id=_oid(engine, org))
    )
    assert result.row is Row.OK


def _status(engine: Engine, org: OrgFixture) -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org.name)}["101"]


def _call(*, answered: bool) -> Call:
    at = now_ms()
    return Call(
        f"call-{next(_ids)}",
        "sip1",
        Direction.IN,
        CallState.TALKING if answered else CallState.RINGING,
        "Dana",
        "0501234567",
        "0390",
        at,
        at if answered else None,
    )


def _start(engine: Engine, org: OrgFixture, call: Call) -> None:
    store_calls(engine, _oid(engine, org), [Changed(CallChange.STARTED, call)])


async def _end(engine: Engine, changes: StatusChanges, org: OrgFixture, call: Call) -> None:
    """What the link does with a call's end: the call's row and event, then its effect."""
    ended = [Changed(CallChange.ENDED, call)]
    store_calls(engine, _oid(engine, org), ended)
    await wrap_up.calls_ended(engine, changes, _oid(engine, org), ended)


async def _call_ends(
    engine: Engine, changes: StatusChanges, org: OrgFixture, *, answered: bool = True
) -> None:
    call = _call(answered=answered)
    _start(engine, org, call)
    await _end(engine, changes, org, call)


def _due(engine: Engine) -> int:
    with reading(engine) as conn:
        found = conn.execute(select(deadlines.c.due_ms).where(deadlines.c.kind == "wrap-up"))
        return int(found.scalar_one())


def _changes_of_101(engine: Engine, org: OrgFixture) -> list[HistoryEvent]:
    events = history.read_history(engine, org.name, limit=1000).events
    return [e for e in events if e.user_id == "101" and e.call is None]


def _runner(engine: Engine, changes: StatusChanges) -> DeadlineRunner:
    return DeadlineRunner(engine, changes, lambda _: None)


async def test_a_deadline_claimed_by_an_instance_that_died_is_acted_on_once_after_a_restart(
    any_database_url: str, engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.TIMED, 30, None)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org)
    assert _status(engine, org) == 13
    due = _due(engine)
    assert len(claim_due(engine, due, CLAIM)) == 1  # taken by an instance that then dies
    # The restart: a new engine and change path, as a new instance has.
    restarted = open_database(any_database_url)
    try:
        async with standalone_changes(any_database_url) as again:
            assert claim_due(restarted, due + 1_000, CLAIM) == []  # the claim still holds
            claimed = claim_due(restarted, due + CLAIM + 1, CLAIM)  # the claim lapsed
            assert [d.kind for d in claimed] == ["wrap-up"]
            await _runner(restarted, again).act(claimed)
            await _runner(restarted, again).act(claimed)  # a second instance's stale copy
            assert claim_due(restarted, due + 3 * CLAIM, CLAIM) == []
    finally:
        restarted.dispose()
    assert _status(engine, org) == 1
    back = [e for e in _changes_of_101(engine, org) if e.reason == "wrap-up-ended"]
    assert [(e.source, e.prev_status, e.new_status, e.due_ms) for e in back] == [
        ("system", 13, 1, due)
    ]


async def test_a_change_during_wrap_up_cancels_its_end(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.TIMED, 30, None)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org)
    due = _due(engine)
    await _set(changes, engine, org, 3)
    await _runner(engine, changes).act(claim_due(engine, due, CLAIM))
    assert _status(engine, org) == 3
    assert [e.reason for e in _changes_of_101(engine, org)] == [None, "wrap-up", None]


async def test_a_call_ending_during_wrap_up_restarts_it(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.TIMED, 30, None)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org)
    first = _due(engine)
    early = claim_due(engine, first, CLAIM)  # claimed just before the second call ends
    await _call_ends(engine, changes, org)
    second = _due(engine)
    assert second > first
    await _runner(engine, changes).act(early)
    assert _status(engine, org) == 13  # the first end was overtaken
    await _runner(engine, changes).act(claim_due(engine, second, CLAIM))
    assert _status(engine, org) == 1
    assert [e.reason for e in _changes_of_101(engine, org)] == [None, "wrap-up", "wrap-up-ended"]


async def test_a_wrap_up_s_end_read_before_a_call_restarted_it_does_not_apply(
    engine_on: Engine, changes: StatusChanges
) -> None:
    """The deadline's wrap-up was read, then a second call ended (same presence version,
    a later due), then the end was applied: the agent stays in the restarted wrap-up."""
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.TIMED, 30, None)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org)
    first = _due(engine)
    read = wrap_up.in_wrap_up(engine, _oid(engine, org), "101")
    assert read is not None
    assert read.wrap.due_ms == first
    await _call_ends(engine, changes, org)
    second = _due(engine)
    assert second > first
    ended = await wrap_up.end_wrap_up(changes, _oid(engine, org), read, Source.SYSTEM, due_ms=first)
    assert ended.change is None
    assert _status(engine, org) == 13
    await _runner(engine, changes).act(claim_due(engine, second, CLAIM))
    assert _status(engine, org) == 1
    assert [e.reason for e in _changes_of_101(engine, org)] == [None, "wrap-up", "wrap-up-ended"]


async def test_no_wrap_up_after_an_unanswered_call_or_for_an_agent_taking_no_calls(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.MANUAL, None, None)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org, answered=False)
    assert _status(engine, org) == 1
    await _set(changes, engine, org, 5)  # an outbound call from Administrative time
    await _call_ends(engine, changes, org)
    assert _status(engine, org) == 5


async def test_a_manual_wrap_up_lasts_until_ready_which_returns_to_the_status_before(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.MANUAL, None, 9)
    await _set(changes, engine, org, 1)
    await _call_ends(engine, changes, org)
    assert _status(engine, org) == 9
    with reading(engine) as conn:
        assert conn.execute(select(deadlines).where(deadlines.c.kind == "wrap-up")).all() == []
    found = wrap_up.in_wrap_up(engine, _oid(engine, org), "101")
    assert found is not None
    assert found.wrap.due_ms is None
    await wrap_up.end_wrap_up(changes, _oid(engine, org), found, Source.PANEL)
    assert _status(engine, org) == 1
    assert wrap_up.in_wrap_up(engine, _oid(engine, org), "101") is None
    last = _changes_of_101(engine, org)[-1]
    assert (last.source, last.reason, last.new_status) == ("panel", "wrap-up-ended", 1)


async def test_a_status_queued_during_the_call_is_applied_at_the_wrap_up_s_end(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    wrap_up.set_wrap_up(engine, org.name, WrapUpMode.TIMED, 30, None)
    await _set(changes, engine, org, 1)
    call = _call(answered=True)
    _start(engine, org, call)
    next_status.queue_next(engine, org.name, "101", 3, Source.PANEL)
    next_status.queue_next(engine, org.name, "101", 7, Source.PANEL)  # replaces it
    await _end(engine, changes, org, call)
    assert _status(engine, org) == 13  # wrap-up first; the next status waits for its end
    oid = _oid(engine, org)
    with reading(engine) as conn:
        assert next_status.next_statuses(conn, oid) != {}
    await _runner(engine, changes).act(claim_due(engine, _due(engine), CLAIM))
    assert _status(engine, org) == 7
    events = _changes_of_101(engine, org)
    asked = [orjson.loads(e.detail or "") for e in events if e.kind == "agent.next_status"]
    assert asked == [{"status": 3}, {"status": 7}]
    last = events[-1]
    assert (last.source, last.reason, last.prev_status, last.new_status) == (
        "panel",
        "next-status",
        13,
        7,
    )
    with reading(engine) as conn:
        assert next_status.next_statuses(conn, oid) == {}  # applied: cleared


async def test_any_applied_change_clears_the_next_status(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    await _set(changes, engine, org, 1)
    call = _call(answered=True)
    _start(engine, org, call)
    next_status.queue_next(engine, org.name, "101", 3, Source.PANEL)
    await _set(changes, engine, org, 11)  # chosen during the call: the queued one is gone
    await _end(engine, changes, org, call)
    assert _status(engine, org) == 11
    with reading(engine) as conn:
        assert next_status.next_statuses(conn, _oid(engine, org)) == {}
