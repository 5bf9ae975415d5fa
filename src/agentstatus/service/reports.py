"""Time-in-status: how long each agent spent in each status over a range, and how much of
it was past the status's limit.

An agent's status at the start of the range is the one its last earlier event set; an
agent with no earlier event is taken to be in the status its first event in the range
left (or, with no events at all, its current one). Time after "now" is not counted.

The time over a limit is counted per stint (from a change into the status to the next
change), with the limits as they are now, as the deadlines count it: a stint that began
before the range counts from its real start. A limit's warning is not a change.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.domain.policies import over_limit_ms
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.reports import (
    Change,
    ReportAgent,
    Surroundings,
    changes_in,
    report_agents,
    report_statuses,
    surroundings,
)
from agentstatus.storage.types import Engine

MAX_RANGE_MS = 366 * 24 * 3600 * 1000
DEFAULT_RANGE_MS = 24 * 3600 * 1000


def report_range(start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
    """A report's range as asked: 'to' defaults to now, 'from' to 24 hours before 'to'."""
    end = end_ms if end_ms is not None else now_ms()
    return (start_ms if start_ms is not None else end - DEFAULT_RANGE_MS), end


@dataclass(frozen=True, slots=True)
class TimeInStatus:
    user_id: str
    name: str
    status: int
    status_name: str | None
    seconds: float
    over_limit_seconds: float = 0.0
    """Of ``seconds``, the time past the status's limit (0 without a limit)."""

    def as_json(self) -> dict[str, object]:
        """The shape of ``report --format json`` and ``GET …/reports/time-in-status``."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "status": self.status,
            "status_name": self.status_name,
            "seconds": self.seconds,
            "over_limit_seconds": self.over_limit_seconds,
        }


def time_in_status(
    engine: Engine,
    org: str,
    start_ms: int,
    end_ms: int,
    user_ids: list[str] | None = None,
) -> list[TimeInStatus]:
    if end_ms <= start_ms:
        raise InvalidInput("the end of the range must be after its start")
    if end_ms - start_ms > MAX_RANGE_MS:
        raise InvalidInput("a report covers at most 366 days")
    end_ms = min(end_ms, now_ms())
    with reading(engine) as conn:
        oid = org_id(conn, org)
        agent_rows = report_agents(conn, oid, user_ids)
        catalogue = report_statuses(conn, oid)
        agent_ids = [a.id for a in agent_rows]
        around = surroundings(conn, oid, agent_ids, start_ms, end_ms)
        events = changes_in(conn, oid, start_ms, end_ms, None if user_ids is None else agent_ids)
    names = {s.status_id: s.name for s in catalogue}
    limits = {s.status_id: s.limit_seconds for s in catalogue}
    report: list[TimeInStatus] = []
    for agent in agent_rows:
        begin = max(start_ms, agent.created_ms)
        if begin >= end_ms:
            continue
        tally = _tally(agent, around, events.get(agent.id, []), limits, begin, end_ms)
        report.extend(
            TimeInStatus(
                agent.user_id, agent.name, sid, names.get(sid), ms / 1000, tally.over[sid] / 1000
            )
            for sid, ms in sorted(tally.totals.items())
            if ms > 0
        )
    return report


def _tally(
    agent: ReportAgent,
    around: Surroundings,
    own: list[Change],
    limits: dict[int, int | None],
    begin: int,
    end_ms: int,
) -> _Tally:
    """The agent's time in each status from ``begin`` to ``end_ms``. With no change before
    the range nor in it, the status during it is what the first change after it changed
    from (the current status only when there is none)."""
    status = around.before.get(
        agent.id, own[0][0] if own else around.after.get(agent.id, agent.status)
    )
    tally = _Tally(limits)
    cursor = begin
    stint = min(around.before_since.get(agent.id, begin), begin)
    for _prev, new, at in own:
        at = max(at, begin)
        tally.count(status, cursor, at, stint)
        status, cursor, stint = new, at, at
    tally.count(status, cursor, end_ms, stint)
    return tally


class _Tally:
    """One agent's milliseconds per status, and of them past the status's limit."""

    def __init__(self, limits: dict[int, int | None]) -> None:
        self.limits = limits
        self.totals: dict[int, int] = {}
        self.over: dict[int, int] = {}

    def count(self, sid: int, start: int, end: int, stint_start: int) -> None:
        self.totals[sid] = self.totals.get(sid, 0) + (end - start)
        past = over_limit_ms(stint_start, start, end, self.limits.get(sid))
        self.over[sid] = self.over.get(sid, 0) + past


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula gets a
    leading ``'`` (OWASP's advice against CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def as_csv(rows: list[TimeInStatus]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["user_id", "name", "status", "status_name", "seconds", "over_limit_seconds"])
    for r in rows:
        writer.writerow(
            [
                safe_cell(r.user_id),
                safe_cell(r.name),
                r.status,
                safe_cell(r.status_name or ""),
                f"{r.seconds:.3f}",
                f"{r.over_limit_seconds:.3f}",
            ]
        )
    return out.getvalue()
