"""The reads of the floor at a past instant: each agent that existed then with its last
change at or before it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from agentstatus.storage.history import IS_CHANGE
from agentstatus.storage.schema import agents, history


@dataclass(frozen=True, slots=True)
class AgentThen:
    user_id: str
    created_ms: int
    last_change: int | None
    """The id of its last change at or before the instant, if any."""


@dataclass(frozen=True, slots=True)
class PastChange:
    new_extension: str | None
    new_status: int
    at_ms: int


def agents_at(conn: Connection, oid: int, at_ms: int) -> list[AgentThen]:
    """The active agents created at or before ``at_ms``, by user id."""
    # One index lookup per agent on (org, agent, time), not a scan of the history.
    last = (
        select(history.c.id)
        .where(
            history.c.org_id == oid,
            history.c.agent_id == agents.c.id,
            history.c.at_ms <= at_ms,
            IS_CHANGE,  # a warning leaves the agent where it was, since when it was
        )
        .order_by(history.c.at_ms.desc(), history.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(agents.c.user_id, agents.c.created_ms, last.label("hid"))
        .where(agents.c.org_id == oid, agents.c.active, agents.c.created_ms <= at_ms)
        .order_by(agents.c.user_id)
    )
    return [AgentThen(r.user_id, r.created_ms, r.hid) for r in rows]


def changes_by_id(conn: Connection, ids: list[int]) -> dict[int, PastChange]:
    if not ids:
        return {}
    rows = conn.execute(
        select(history.c.id, history.c.new_extension, history.c.new_status, history.c.at_ms).where(
            history.c.id.in_(ids)
        )
    )
    return {r.id: PastChange(r.new_extension, r.new_status, r.at_ms) for r in rows}
