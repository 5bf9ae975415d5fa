"""The policies' deadlines as the runner acts on them: claimed when due (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, the single writer on SQLite), given back or deleted, and the agent
a limit's deadline is about, read to see whether it still applies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, deadlines, extensions, presence, statuses


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    org_id: int
    agent_id: int | None
    kind: str
    status: int | None
    version: int | None
    due_ms: int


def claim_due(engine: Engine, at: int, claim_ms: int, limit: int) -> list[Due]:
    """Claim up to ``limit`` passed deadlines no live claim holds, earliest first."""
    pick = (
        select(deadlines.c.id)
        .where(deadlines.c.due_ms <= at, deadlines.c.claimed_until_ms < at)
        .order_by(deadlines.c.due_ms)
        .limit(limit)
    )
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        rows = conn.execute(
            update(deadlines)
            .where(deadlines.c.id.in_(pick.scalar_subquery()))
            .values(claimed_until_ms=at + claim_ms)
            .returning(
                deadlines.c.id,
                deadlines.c.org_id,
                deadlines.c.agent_id,
                deadlines.c.kind,
                deadlines.c.status,
                deadlines.c.version,
                deadlines.c.due_ms,
            )
        ).all()
    found = [Due(*r) for r in rows]
    return sorted(found, key=lambda d: d.due_ms)


def next_due(engine: Engine, at: int) -> int | None:
    """When the earliest deadline no live claim holds is due (None: there is none)."""
    with reading(engine) as conn:
        found = conn.execute(
            select(func.min(deadlines.c.due_ms)).where(deadlines.c.claimed_until_ms < at)
        ).scalar()
    return None if found is None else int(found)


def release(engine: Engine, deadline_id: int) -> None:
    """Give a claim back at once."""
    with engine.begin() as conn:
        conn.execute(
            update(deadlines).where(deadlines.c.id == deadline_id).values(claimed_until_ms=0)
        )


def finish_many(engine: Engine, deadline_ids: list[int]) -> None:
    """Delete deadlines, in one transaction."""
    with engine.begin() as conn:
        conn.execute(delete(deadlines).where(deadlines.c.id.in_(deadline_ids)))


def take(conn: Connection, deadline_id: int) -> bool:
    """Delete one deadline in the caller's transaction; False when it was gone already."""
    return conn.execute(delete(deadlines).where(deadlines.c.id == deadline_id)).rowcount == 1


@dataclass(frozen=True, slots=True)
class LimitAgent:
    """The agent of a limit's deadline as it is now, and the limit of its status."""

    user_id: str
    active: bool
    extension: str | None
    version: int
    status: int
    since_ms: int
    limit_seconds: int | None
    limit_action: str | None


def limit_agent(conn: Connection, agent_id: int) -> LimitAgent | None:
    row = conn.execute(
        select(
            agents.c.user_id,
            agents.c.active,
            extensions.c.sip,
            presence.c.version,
            presence.c.status,
            presence.c.since_ms,
            statuses.c.limit_seconds,
            statuses.c.limit_action,
        )
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id)
            .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
            .join(
                statuses,
                (statuses.c.org_id == presence.c.org_id)
                & (statuses.c.status_id == presence.c.status),
            )
        )
        .where(presence.c.agent_id == agent_id)
    ).first()
    if row is None:
        return None
    return LimitAgent(
        row.user_id,
        bool(row.active),
        row.sip,
        int(row.version),
        int(row.status),
        int(row.since_ms),
        row.limit_seconds,
        row.limit_action,
    )


def logged_in_at(engine: Engine, oid: int, due_ms: int) -> list[tuple[str, int]]:
    """The agents logged in since before ``due_ms`` (user id, presence version)."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(agents.c.user_id, presence.c.version)
            .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
            .where(
                presence.c.org_id == oid,
                presence.c.status != LOGOUT,
                presence.c.since_ms <= due_ms,
            )
        ).all()
    return [(r.user_id, int(r.version)) for r in rows]
