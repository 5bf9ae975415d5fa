"""Presence: who holds which extension in which status, and admin logouts (through the
one status-change path, like every change)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import to_iso
from agentstatus.service.errors import NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, extensions, presence, statuses


@dataclass(frozen=True, slots=True)
class AgentPresence:
    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str | None
    since_ms: int

    def as_json(self) -> dict[str, object]:
        """The shape of ``presence --json`` and ``GET /api/v1/orgs/{org}/presence``."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "extension": self.extension,
            "status": self.status,
            "status_name": self.status_name,
            "since": to_iso(self.since_ms),
        }


_PRESENCE_QUERY = (
    select(
        agents.c.user_id,
        agents.c.name,
        extensions.c.sip,
        presence.c.status,
        statuses.c.name.label("status_name"),
        presence.c.since_ms,
    )
    .select_from(
        agents.join(presence, presence.c.agent_id == agents.c.id)
        .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
        .outerjoin(
            statuses,
            (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
        )
    )
    .order_by(agents.c.user_id)
)


def list_presence_rows(conn: Connection, oid: int) -> list[AgentPresence]:
    """Every active agent's presence, on the caller's connection (and snapshot)."""
    rows = conn.execute(_PRESENCE_QUERY.where(agents.c.org_id == oid, agents.c.active))
    return [
        AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms) for r in rows
    ]


def list_presence(engine: Engine, org: str) -> list[AgentPresence]:
    with reading(engine) as conn:
        return list_presence_rows(conn, org_id(conn, org))


def agent_row_id(conn: Connection, oid: int, user_id: str) -> int:
    found = conn.execute(
        select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user_id)
    ).first()
    if found is None:
        raise NotFound(f"no agent {user_id!r} in this organisation")
    return int(found.id)


def _agent_of(engine: Engine, org: str, user_id: str) -> int:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        agent_row_id(conn, oid, user_id)
        return oid


def _logged_in(engine: Engine, org: str) -> tuple[int, list[str]]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        rows = conn.execute(
            select(agents.c.user_id)
            .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
            .where(presence.c.org_id == oid)
            .where(presence.c.extension_id.is_not(None) | (presence.c.status != LOGOUT))
            .order_by(agents.c.user_id)
        )
        return oid, list(rows.scalars())


async def force_logout(changes: StatusChanges, engine: Engine, org: str, user_id: str) -> bool:
    """Log one agent out (source ``admin``); False when it was already logged out."""
    oid = await asyncio.to_thread(_agent_of, engine, org, user_id)
    return await changes.logout(oid, user_id)


# Logouts in flight at once: enough to fill an SQLite batch or the PostgreSQL pool, few
# enough that a large organisation does not queue tens of thousands of coroutines.
LOGOUT_CONCURRENCY = 256


async def logout_everyone(changes: StatusChanges, engine: Engine, org: str) -> int:
    """Log every agent of the organisation out (source ``admin``); how many were in."""
    oid, user_ids = await asyncio.to_thread(_logged_in, engine, org)
    count = 0
    for start in range(0, len(user_ids), LOGOUT_CONCURRENCY):
        chunk = user_ids[start : start + LOGOUT_CONCURRENCY]
        done = await asyncio.gather(*(changes.logout(oid, user_id) for user_id in chunk))
        count += sum(done)
    return count
