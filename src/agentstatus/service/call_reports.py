"""Calls per agent and day (SPEC 8): calls answered, talk time, wrap-up time, missed calls
and occupancy, over a range split at the midnights of the organisation's time zone.

From the event log:

- **calls answered**: the agent's ``call.answered`` events;
- **talk time**: each answered call from its ``call.answered`` to its ``call.ended`` (paired
  by the call's id), hold included; a call that spans midnight is split between the days.
  A call with no end yet counts until the agent logs out (a logged-out agent's calls are
  not recorded, so their end never will be) or else until the range's end or now. Calls
  are looked for from a day before the range (``LOOKBACK_MS``): a call answered earlier
  is not seen. Two calls at once count their overlap once;
- **wrap-up time**: the time in a stint begun by an ``agent.wrap_up_started`` change;
- **missed calls**: the agent's ``agent.missed_call`` events;
- **occupancy**: see ``domain.occupancy``: talk and wrap-up over the time the agent could
  take calls; None (JSON null) with no such time.

The statuses at the range's start are read as the time-in-status report reads them
(``service.reports``). A day gets a row when the agent was logged in during it or has a
call or a missed call in it.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.occupancy import (
    AgentCalls,
    CallsDay,
    Span,
    calls_day,
    stints_of,
    zone_days,
)
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.reports import MAX_RANGE_MS, safe_cell
from agentstatus.service.timezones import timezone_of
from agentstatus.storage.call_reports import (
    AgentEvents,
    calls_report_events,
    in_wrap_up_before,
    statuses_taking_calls,
)
from agentstatus.storage.database import reading
from agentstatus.storage.reports import ReportAgent, Surroundings, report_agents, surroundings
from agentstatus.storage.types import Engine

LOOKBACK_MS = 24 * 3600 * 1000
CSV_HEADER = (
    "user_id",
    "name",
    "day",
    "calls_answered",
    "talk_seconds",
    "wrap_up_seconds",
    "missed_calls",
    "available_seconds",
    "occupancy",
)


@dataclass(frozen=True, slots=True)
class CallsRow:
    user_id: str
    name: str
    figures: CallsDay

    @property
    def day(self) -> date:
        return self.figures.day

    def as_json(self) -> dict[str, object]:
        """The shape of ``GET …/reports/calls``."""
        f = self.figures
        return {
            "user_id": self.user_id,
            "name": self.name,
            "day": f.day.isoformat(),
            "calls_answered": f.answered,
            "talk_seconds": f.talk_ms / 1000,
            "wrap_up_seconds": f.wrap_up_ms / 1000,
            "missed_calls": f.missed,
            "available_seconds": f.available_ms / 1000,
            "occupancy": None if f.occupancy is None else round(f.occupancy, 4),
        }


def calls_report(
    engine: Engine, org: str, start_ms: int, end_ms: int, user_ids: list[str] | None = None
) -> list[CallsRow]:
    """Rows by agent (user id) then day, for the days of ``[start, end)`` in the
    organisation's time zone (the first and last only in part when the range is)."""
    if end_ms <= start_ms:
        raise InvalidInput("the end of the range must be after its start")
    if end_ms - start_ms > MAX_RANGE_MS:
        raise InvalidInput("a report covers at most 366 days")
    # Nothing happened before the epoch, and days of the year 1 are past some zones' calendars.
    start_ms, end_ms = max(start_ms, 0), min(end_ms, now_ms())
    since = start_ms - LOOKBACK_MS
    with reading(engine) as conn:
        oid = org_id(conn, org)
        zone = timezone_of(conn, oid)
        agent_rows = report_agents(conn, oid, user_ids)
        ids = [a.id for a in agent_rows]
        around = surroundings(conn, oid, ids, since, end_ms)
        wrapping = in_wrap_up_before(conn, oid, ids, since)
        events = calls_report_events(conn, oid, since, end_ms, None if user_ids is None else ids)
        taking = statuses_taking_calls(conn, oid)
    days = zone_days(start_ms, end_ms, zone) if end_ms > start_ms else []
    rows: list[CallsRow] = []
    for agent in agent_rows:
        if max(start_ms, agent.created_ms) >= end_ms:
            continue
        own = events.get(agent.id, AgentEvents())
        activity = _activity(agent, around, agent.id in wrapping, own, since, end_ms)
        for day, start, end in days:
            figures = calls_day(activity, taking, day, start, end)
            if figures.logged_in_ms or figures.answered or figures.missed:
                rows.append(CallsRow(agent.user_id, agent.name, figures))
    return rows


def _activity(
    agent: ReportAgent,
    around: Surroundings,
    wrapping: bool,
    own: AgentEvents,
    since: int,
    end_ms: int,
) -> AgentCalls:
    """The agent's stints and calls from ``since`` (or its creation) to ``end_ms``."""
    begin = max(since, agent.created_ms)
    status = around.before.get(
        agent.id, own.changes[0][0] if own.changes else around.after.get(agent.id, agent.status)
    )
    moves = [(new, at, wrap_up) for _prev, new, at, wrap_up in own.changes]
    stints = stints_of(status, wrapping, moves, begin, end_ms)
    logouts = [at for _prev, new, at, _w in own.changes if new == LOGOUT]
    return AgentCalls(
        stints,
        _talks(own, logouts, end_ms),
        [at for at, _id in own.answered],
        own.missed,
    )


def _talks(own: AgentEvents, logouts: list[int], end_ms: int) -> list[Span]:
    """Each answered call from its answer to its end, else the agent's next logout, else
    ``end_ms``."""
    ends: dict[str, list[int]] = {}
    for at, call_id in own.ended:
        ends.setdefault(call_id, []).append(at)
    spans: list[Span] = []
    for at, call_id in own.answered:
        own_ends = ends.get(call_id, []) if call_id else []
        after = [t for t in own_ends if t >= at]
        if after:
            spans.append((at, after[0]))
            continue
        next_logout = bisect_left(logouts, at)
        spans.append((at, logouts[next_logout] if next_logout < len(logouts) else end_ms))
    return spans


def calls_csv(rows: list[CallsRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        f = r.figures
        writer.writerow(
            [
                safe_cell(r.user_id),
                safe_cell(r.name),
                f.day.isoformat(),
                f.answered,
                f"{f.talk_ms / 1000:.3f}",
                f"{f.wrap_up_ms / 1000:.3f}",
                f.missed,
                f"{f.available_ms / 1000:.3f}",
                "" if f.occupancy is None else f"{f.occupancy:.4f}",
            ]
        )
    return out.getvalue()
