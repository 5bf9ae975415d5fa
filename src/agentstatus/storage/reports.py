"""The reads of the time-in-status report: the agents, the organisation's statuses and
limits, where each agent stood around a range, and its changes within it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from agentstatus.storage.history import IS_CHANGE
from agentstatus.storage.schema import agents, history, presence, statuses

# Agents per lookup of where they stood: SQLite allows 999 bound parameters by default.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ReportAgent:
    id: int
    user_id: str
    name: str
    created_ms: int
    status: int
    """Its status now."""


@dataclass(frozen=True, slots=True)
class ReportStatus:
    status_id: int
    name: str
    limit_seconds: int | None


@dataclass(frozen=True, slots=True)
class Surroundings:
    """Where an agent stood around a range, from its changes outside it."""

    before: dict[int, int]
    """Agent id: the status its last change before the range set."""
    before_since: dict[int, int]
    """Agent id: when that change happened."""
    after: dict[int, int]
    """Agent id: the status its first event at or after the range's end changed from."""


Change = tuple[int, int, int]
"""A change's previous status, new status and instant."""


def report_agents(conn: Connection, oid: int, user_ids: list[str] | None) -> list[ReportAgent]:
    """The organisation's agents (active or not), or those of ``user_ids``, by user id."""
    query = (
        select(agents.c.id, agents.c.user_id, agents.c.name, agents.c.created_ms, presence.c.status)
        .join(presence, presence.c.agent_id == agents.c.id)
        .where(agents.c.org_id == oid)
        .order_by(agents.c.user_id)
    )
    if user_ids is not None:
        query = query.where(agents.c.user_id.in_(user_ids))
    return [
        ReportAgent(r.id, r.user_id, r.name, r.created_ms, r.status) for r in conn.execute(query)
    ]


def report_statuses(conn: Connection, oid: int) -> list[ReportStatus]:
    rows = conn.execute(
        select(statuses.c.status_id, statuses.c.name, statuses.c.limit_seconds).where(
            statuses.c.org_id == oid
        )
    )
    return [ReportStatus(r.status_id, r.name, r.limit_seconds) for r in rows]


def surroundings(
    conn: Connection, oid: int, agent_ids: Sequence[int], start_ms: int, end_ms: int
) -> Surroundings:
    """Only the agents asked for: with the (org, agent, time) index each lookup is a short
    range scan, whatever the size of the history."""
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
    found = Surroundings({}, {}, {})
    for at in range(0, len(agent_ids), _CHUNK):
        rows = conn.execute(
            select(
                agents.c.id,
                last_before.label("status"),
                last_before_at.label("since"),
                first_after.label("after"),
            ).where(agents.c.id.in_(agent_ids[at : at + _CHUNK]))
        ).all()
        found.before.update((r.id, r.status) for r in rows if r.status is not None)
        found.before_since.update((r.id, r.since) for r in rows if r.since is not None)
        found.after.update((r.id, r.after) for r in rows if r.after is not None)
    return found


def changes_in(
    conn: Connection, oid: int, start_ms: int, end_ms: int, agent_ids: Sequence[int] | None
) -> dict[int, list[Change]]:
    """Agent id: its changes with ``start <= at < end`` in order (of every agent of the
    organisation when ``agent_ids`` is None)."""
    query = (
        select(history.c.agent_id, history.c.prev_status, history.c.new_status, history.c.at_ms)
        .where(
            history.c.org_id == oid,
            history.c.at_ms >= start_ms,
            history.c.at_ms < end_ms,
            IS_CHANGE,
        )
        .order_by(history.c.agent_id, history.c.at_ms, history.c.id)
    )
    if agent_ids is not None:
        query = query.where(history.c.agent_id.in_(agent_ids))
    found: dict[int, list[Change]] = {}
    for e in conn.execute(query):
        found.setdefault(e.agent_id, []).append((e.prev_status, e.new_status, e.at_ms))
    return found
