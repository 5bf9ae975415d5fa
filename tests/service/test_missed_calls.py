"""What a missed call does, through the real change path on a real database (no phone
system): the event recorded for a logged-in agent only, the count in a row, and a move
only from a status that takes calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import Engine

from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import MISSED_CALL_EVENT, MISSED_CALLS_REASON
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.service import missed_calls, presence
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.storage.database import reading
from tests.cli.helpers import ok
from tests.conftest import OrgFactory
from tests.support.changes import url_of
from tests.support.history import all_history

OFFER = MissedOffer("PJSIP/sip1", "support", 15000)


@pytest.fixture
def database_url(any_database_url: str) -> str:
    """Both engines: the count's read takes the presence row's lock on each."""
    return any_database_url


@pytest.fixture
async def changes(engine: Engine) -> AsyncIterator[StatusChanges]:
    async with standalone_changes(url_of(engine)) as found:
        yield found


async def test_missed_calls_count_in_a_row_and_move_only_from_a_status_taking_calls(
    engine: Engine, org_factory: OrgFactory, changes: StatusChanges
) -> None:
    org = org_factory()
    with reading(engine) as conn:
        oid = org_id(conn, org.name)
    announced: list[int] = []

    async def missed() -> int | None:
        found = await missed_calls.missed_call(engine, changes, announced.append, oid, "101", OFFER)
        return None if found is None else found.count

    async def set_to(status: int) -> None:
        await changes.apply(StatusCommand("101", "sip1", status, Source.ADMIN, org_id=oid))

    def status() -> int:
        return {a.user_id: a.status for a in presence.list_presence(engine, org.name)}["101"]

    assert await missed() is None  # logged out: nobody missed it
    missed_calls.set_rule(engine, org.name, 2, 11)
    await set_to(3)  # Lunch break: offered a call anyway (a stale member at the phone)
    assert [await missed(), await missed()] == [1, 2]
    assert status() == 3  # a break is not interrupted
    await set_to(1)
    assert await missed() == 1  # the change started the count again
    assert status() == 1
    assert await missed() == 2
    assert status() == 11
    assert announced == [oid] * 4  # each recorded missed call, for the streams
    history = all_history(engine, org.name)
    missed_rows = [e for e in history if e.kind == MISSED_CALL_EVENT]
    assert [orjson.loads(e.detail or "") for e in missed_rows][-1] == {
        "count": 2,
        "queue": "support",
        "ring_ms": 15000,
    }
    assert [(e.prev_status, e.new_status, e.new_extension) for e in missed_rows] == [
        (3, 3, "sip1"),
        (3, 3, "sip1"),
        (1, 1, "sip1"),
        (1, 1, "sip1"),
    ]
    (moved,) = [e for e in history if e.reason == MISSED_CALLS_REASON]
    assert (moved.source, moved.prev_status, moved.new_status) == ("pbx", 1, 11)
    said = ok(url_of(engine), "history", org.name).stdout
    assert "missed call at sip1 (2 in a row, queue support)" in said
