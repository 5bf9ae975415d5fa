"""The deadlines the policies plan: a status's limit (one per agent in the status) and
the organisation's end of the shift (one per organisation)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, literal, select

from agentstatus.domain.event_types import OVERDUE_EVENT
from agentstatus.storage.schema import deadlines, history, presence

LIMIT = "limit"
SHIFT = "shift"
"""The kinds of deadline, as stored."""


def replan_limit(
    conn: Connection, oid: int, sid: int, seconds: int | None, *, spare_warned: bool
) -> None:
    """Replace the limit deadlines of status ``sid``: one per agent in it, due at its
    ``since`` plus ``seconds`` (None: no limit, none). ``spare_warned``: skip the agents
    warned since they entered the status."""
    conn.execute(
        delete(deadlines).where(
            deadlines.c.org_id == oid, deadlines.c.kind == LIMIT, deadlines.c.status == sid
        )
    )
    if seconds is None:
        return
    planned = select(
        presence.c.org_id,
        presence.c.agent_id,
        literal(LIMIT),
        presence.c.status,
        presence.c.version,
        presence.c.since_ms + seconds * 1000,
        literal(0),
    ).where(presence.c.org_id == oid, presence.c.status == sid)
    if spare_warned:
        warned = (
            select(history.c.id)
            .where(
                history.c.org_id == presence.c.org_id,
                history.c.agent_id == presence.c.agent_id,
                history.c.at_ms >= presence.c.since_ms,
                history.c.kind == OVERDUE_EVENT,
            )
            .exists()
        )
        planned = planned.where(~warned)
    conn.execute(
        insert(deadlines).from_select(
            ["org_id", "agent_id", "kind", "status", "version", "due_ms", "claimed_until_ms"],
            planned,
        )
    )


def delete_shift_deadline(conn: Connection, oid: int) -> None:
    conn.execute(delete(deadlines).where(deadlines.c.org_id == oid, deadlines.c.kind == SHIFT))


def insert_shift_deadline(conn: Connection, oid: int, due_ms: int) -> None:
    conn.execute(
        insert(deadlines).values(
            org_id=oid, agent_id=None, kind=SHIFT, status=None, version=None, due_ms=due_ms
        )
    )


def shift_due(conn: Connection, oid: int) -> int | None:
    """When the organisation's shift deadline is due, or None."""
    due = conn.execute(
        select(deadlines.c.due_ms).where(deadlines.c.org_id == oid, deadlines.c.kind == SHIFT)
    ).scalar()
    return None if due is None else int(due)
