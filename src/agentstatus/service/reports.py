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

from sqlalchemy import Engine, select

from agentstatus.domain.clock import now_ms
from agentstatus.domain.policies import over_limit_ms
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.history import IS_CHANGE
from agentstatus.storage.schema import agents, history, presence, statuses

MAX_RANGE_MS = 366 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TimeInStatus:
    user_id: str
    name: str
    status: int
    status_name: str | None
    seconds: float
    over_limit_seconds: float = 0.0
    """Of ``seconds``, the time past the status's limit (0 without a limit)."""


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
        agent_query = (
            select(
                agents.c.id, agents.c.user_id, agents.c.name, agents.c.created_ms, presence.c.status
            )
            .join(presence, presence.c.agent_id == agents.c.id)
            .where(agents.c.org_id == oid)
            .order_by(agents.c.user_id)
        )
        if user_ids is not None:
            agent_query = agent_query.where(agents.c.user_id.in_(user_ids))
        agent_rows = conn.execute(agent_query).all()
        catalogue = conn.execute(
            select(statuses.c.status_id, statuses.c.name, statuses.c.limit_seconds).where(
                statuses.c.org_id == oid
            )
        ).all()
        names = {s.status_id: s.name for s in catalogue}
        limits = {s.status_id: s.limit_seconds for s in catalogue}
        # Only the agents asked for: with the (org, agent, time) index each lookup is a
        # short range scan, whatever the size of the history.
        agent_ids = [a.id for a in agent_rows]
        last_change = (
            select(history.c.new_status)
            .where(
                history.c.org_id == oid,
                history.c.agent_id == agents.c.id,
                history.c.at_ms < start_ms,
                IS_CHANGE,
            )
            .order_by(history.c.at_ms.desc(), history.c.id.desc())
            .limit(1)
        )
        last_before = last_change.scalar_subquery()
        last_before_at = last_change.with_only_columns(history.c.at_ms).scalar_subquery()
        # With no change before the range nor in it, the status during it is what the first
        # change after it changed from (the current status only when there is none).
        first_after = (
            select(history.c.prev_status)
            .where(
                history.c.org_id == oid,
                history.c.agent_id == agents.c.id,
                history.c.at_ms >= end_ms,
            )
            .order_by(history.c.at_ms, history.c.id)
            .limit(1)
            .scalar_subquery()
        )
        initial: dict[int, int] = {}
        initial_since: dict[int, int] = {}
        later: dict[int, int] = {}
        events_query = (
            select(history.c.agent_id, history.c.prev_status, history.c.new_status, history.c.at_ms)
            .where(
                history.c.org_id == oid,
                history.c.at_ms >= start_ms,
                history.c.at_ms < end_ms,
                IS_CHANGE,
            )
            .order_by(history.c.agent_id, history.c.at_ms, history.c.id)
        )
        for chunk in _chunks(agent_ids, 500):
            rows = conn.execute(
                select(
                    agents.c.id,
                    last_before.label("status"),
                    last_before_at.label("since"),
                    first_after.label("after"),
                ).where(agents.c.id.in_(chunk))
            ).all()
            initial.update((r.id, r.status) for r in rows if r.status is not None)
            initial_since.update((r.id, r.since) for r in rows if r.since is not None)
            later.update((r.id, r.after) for r in rows if r.after is not None)
        if user_ids is not None:
            events_query = events_query.where(history.c.agent_id.in_(agent_ids))
        events: dict[int, list[tuple[int, int, int]]] = {}
        for e in conn.execute(events_query):
            events.setdefault(e.agent_id, []).append((e.prev_status, e.new_status, e.at_ms))
    report: list[TimeInStatus] = []
    for agent in agent_rows:
        begin = max(start_ms, agent.created_ms)
        if begin >= end_ms:
            continue
        own = events.get(agent.id, [])
        status = initial.get(agent.id, own[0][0] if own else later.get(agent.id, agent.status))
        tally = _Tally(limits)
        cursor = begin
        stint = min(initial_since.get(agent.id, begin), begin)
        for _prev, new, at in own:
            at = max(at, begin)
            tally.count(status, cursor, at, stint)
            status, cursor, stint = new, at, at
        tally.count(status, cursor, end_ms, stint)
        report.extend(
            TimeInStatus(
                agent.user_id, agent.name, sid, names.get(sid), ms / 1000, tally.over[sid] / 1000
            )
            for sid, ms in sorted(tally.totals.items())
            if ms > 0
        )
    return report


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


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
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
                _cell(r.user_id),
                _cell(r.name),
                r.status,
                _cell(r.status_name or ""),
                f"{r.seconds:.3f}",
                f"{r.over_limit_seconds:.3f}",
            ]
        )
    return out.getvalue()
