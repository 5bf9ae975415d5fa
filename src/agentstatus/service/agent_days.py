"""One agent's day, as the web shows it: who the agent is and where it stands now, the
status it was in at an instant, and every change of a time range.

The status at an instant is read as the reports read it (service/reports.py): the one
the last earlier change set, else the one the first later change left, else the current
one (an agent whose status never changed is in it since it exists). The totals of a day
therefore agree with the time-in-status report over the same day.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from agentstatus.service.errors import NotFound
from agentstatus.service.history import MAX_PAGE, HistoryEvent, read_history
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
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


def agent_now(engine: Engine, org: str, user_id: str) -> AgentNow:
    """The agent (active or not) and its presence, or NotFound."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
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
        raise NotFound(f"no agent {user_id[:128]!r} in {org}")
    return AgentNow(
        row.user_id, row.name, row.active, row.created_ms, row.status, row.sip, row.since_ms
    )


def status_at(engine: Engine, org: str, user_id: str, at_ms: int) -> int | None:
    """The agent's status at ``at_ms`` from its history; None when it has none."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
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


def changes_between(
    engine: Engine, org: str, user_id: str, start_ms: int, end_ms: int
) -> list[HistoryEvent]:
    """Every change of the agent with ``start <= at < end``, oldest first (all pages)."""
    found: list[HistoryEvent] = []
    after: int | None = None
    while True:
        page = read_history(
            engine,
            org,
            user_id=user_id,
            start_ms=start_ms,
            end_ms=end_ms,
            after=after,
            limit=MAX_PAGE,
            changes_only=True,
        )
        found.extend(page.events)
        if page.next_after is None:
            return sorted(found, key=lambda e: (e.at_ms, e.id))
        after = page.next_after
