"""Days of calls written through the service's own paths, for the calls report's tests:
status changes through the change path (at chosen instants, as the demo writes its past),
calls as the phone-system link stores them, missed calls appended to the event log as their
producer appends them. The agents exist since a week before the days."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import (
    MISSED_CALL_EVENT,
    MISSED_CALLS_REASON,
    WRAP_UP_ENDED_REASON,
    WRAP_UP_REASON,
)
from agentstatus.service import agents
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.timezones import set_timezone
from agentstatus.storage import schema
from agentstatus.storage.database import reading
from agentstatus.storage.event_log import NewEvent, append_event
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org

ZONE = ZoneInfo("Asia/Jerusalem")
DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)
LUNCH, WRAP_UP = 3, 13
MINUTE = 60_000


def at(day: date, hh_mm_ss: str) -> int:
    hour, minute, second = (int(p) for p in hh_mm_ss.split(":"))
    moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ZONE)
    return int(moment.timestamp() * 1000)


@dataclass
class Writer:
    """Writes one organisation's past through the service's own paths."""

    engine: Engine
    changes: StatusChanges
    org: OrgFixture
    oid: int

    async def status(
        self,
        when: int,
        user_id: str,
        status: int,
        source: Source = Source.GET,
        reason: str | None = None,
    ) -> None:
        ext = None if status == LOGOUT else f"sip{int(user_id) - 100}"
        command = StatusCommand(
            user_id, ext, status, source, org_id=self.oid, at_ms=when, reason=reason
        )
        assert (await self.changes.apply(command)).row is Row.OK

    def call(self, user_id: str, call_id: str, answered: int, ended: int | None) -> None:
        """A call ringing 10 s, answered, held a minute into it for a minute, then ended."""
        ext = f"sip{int(user_id) - 100}"
        ringing = Call(call_id, ext, Direction.IN, CallState.RINGING, "", "0501234567", "", 0)
        ringing = replace(ringing, started_ms=answered - 10_000)
        talking = replace(ringing, state=CallState.TALKING, answered_ms=answered)
        steps = [
            (answered - 10_000, Changed(CallChange.STARTED, ringing)),
            (answered, Changed(CallChange.ANSWERED, talking)),
            (answered + MINUTE, Changed(CallChange.HELD, replace(talking, state=CallState.HOLD))),
            (answered + 2 * MINUTE, Changed(CallChange.RESUMED, talking)),
        ]
        if ended is not None:
            steps.append((ended, Changed(CallChange.ENDED, talking)))
        for when, changed in steps:
            if ended is None or when <= ended:
                assert store_calls(self.engine, self.oid, [changed], at_ms=when)

    def missed(self, when: int, user_id: str, agent_id: int, status: int) -> None:
        ext = f"sip{int(user_id) - 100}"
        with self.engine.begin() as conn:
            append_event(
                conn,
                NewEvent(
                    self.oid, agent_id, user_id, ext, ext, status, status, when, "pbx",
                    MISSED_CALL_EVENT, detail='{"count": 1}',
                ),
            )  # fmt: skip


async def call_writer(engine: Engine, changes: StatusChanges) -> tuple[Writer, dict[str, int]]:
    org = make_org(engine, agent_count=4, extension_count=4)
    set_timezone(engine, org.name, ZONE.key)
    with reading(engine) as conn:
        oid = org_id(conn, org.name)
    # The agents exist since before the days (a new agent exists since "now").
    agents.exist_since(engine, org.name, at(DAY1, "00:00:00") - 7 * 24 * 3600_000)
    with reading(engine) as conn:
        found = conn.execute(
            select(schema.agents.c.user_id, schema.agents.c.id).where(schema.agents.c.org_id == oid)
        )
        ids = {str(r.user_id): int(r.id) for r in found}
    return Writer(engine, changes, org, oid), ids


async def two_days(w: Writer, ids: dict[str, int]) -> None:
    """101 works day 1 with a held call, a wrap-up, two missed calls, lunch, and a call
    from 23:50 to 00:10; 102 spends an hour at lunch only; 103 never logs in; 104 is on a
    call from 23:00 on day 2 that has not ended."""
    await w.status(at(DAY1, "08:00:00"), "101", LOGIN)
    w.call("101", "c1", at(DAY1, "09:00:00"), at(DAY1, "09:05:00"))
    await w.status(at(DAY1, "09:05:02"), "101", WRAP_UP, Source.PBX, WRAP_UP_REASON)
    await w.status(at(DAY1, "09:06:02"), "101", LOGIN, Source.SYSTEM, WRAP_UP_ENDED_REASON)
    w.missed(at(DAY1, "10:00:00"), "101", ids["101"], LOGIN)
    w.missed(at(DAY1, "10:01:00"), "101", ids["101"], LOGIN)
    await w.status(at(DAY1, "10:01:01"), "101", 9, Source.PBX, MISSED_CALLS_REASON)
    await w.status(at(DAY1, "10:11:01"), "101", LOGIN)
    await w.status(at(DAY1, "12:00:00"), "101", LUNCH)
    await w.status(at(DAY1, "12:30:00"), "101", LOGIN)
    await w.status(at(DAY1, "14:00:00"), "102", LUNCH)
    await w.status(at(DAY1, "15:00:00"), "102", LOGOUT)
    w.call("101", "c2", at(DAY1, "23:50:00"), at(DAY2, "00:10:00"))
    await w.status(at(DAY2, "00:20:00"), "101", LOGOUT)
    await w.status(at(DAY2, "22:00:00"), "104", LOGIN)
    w.call("104", "c3", at(DAY2, "23:00:00"), None)
