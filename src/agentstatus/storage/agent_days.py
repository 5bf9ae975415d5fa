"""The reads of one agent's day: the agent with its presence now, and the changes around
an instant."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from agentstatus.storage.schema import agents, extensions, history, presence


@dataclass(frozen=True, slots=True)
class AgentNow:
    user_id: str
    name: str
    active: bool
    created_ms: int
    status: int
    extension: str | None
    since_ms: int


def agent_presence(conn: Connection, oid: int, user_id: str) -> AgentNow | None:
    """The agent (active or not) and its presence; None when there is no such agent."""
    row = conn.execute(
        select(
            agents.c.user_id,
            agents.c.name,
            agents.c.active,
            agents.c.created_ms,
            presence.c.status,
            extensions.c.sip,
            presence.c.since_ms,
        )
        .select_from(
            agents.join(presence, presence.c.agent_id == agents.c.id).outerjoin(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(agents.c.org_id == oid, agents.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    return AgentNow(
        row.user_id, row.name, row.active, row.created_ms, row.status, row.sip, row.since_ms
    )


def status_around(conn: Connection, oid: int, user_id: str, at_ms: int) -> int | None:
    """The status the agent's last event before ``at_ms`` set, else the one its first
    event at or after it left; None when it has no history."""
    agent = (
        select(agents.c.id)
        .where(agents.c.org_id == oid, agents.c.user_id == user_id)
        .scalar_subquery()
    )
    mine = select(history.c.prev_status, history.c.new_status).where(
        history.c.org_id == oid, history.c.agent_id == agent
    )
    earlier = conn.execute(
        mine.where(history.c.at_ms < at_ms)
        .order_by(history.c.at_ms.desc(), history.c.id.desc())
        .limit(1)
    ).first()
    if earlier is not None:
        return int(earlier.new_status)
    later = conn.execute(
        mine.where(history.c.at_ms >= at_ms).order_by(history.c.at_ms, history.c.id).limit(1)
    ).first()
    return None if later is None else int(later.prev_status)
