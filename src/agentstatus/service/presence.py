"""Presence: who holds which extension in which status, and admin logouts (through the
one status-change path, like every change)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import to_iso
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, extensions, presence, statuses

# A page of GET /presence: the default fits most organisations whole; at 200,000 agents
# one answer was 25 MB, built in memory.
DEFAULT_PAGE = 1000
MAX_PAGE = 5000
MAX_USER_ID = 128


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


def presence_rows(
    conn: Connection, oid: int, *, after: str | None = None, limit: int | None = None
) -> Iterator[AgentPresence]:
    """Active agents' presence in user id order, after ``after``, on the caller's
    connection (and snapshot). Rows are fetched a thousand at a time, so a large
    organisation is never held in memory as rows."""
    query = _PRESENCE_QUERY.where(agents.c.org_id == oid, agents.c.active)
    if after is not None:
        query = query.where(agents.c.user_id > after)
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query, execution_options={"yield_per": 1000})
    for r in rows:
        yield AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms)


def agent_presence(engine: Engine, agent_id: int) -> AgentPresence | None:
    """One agent's presence by its row id (the panel's agent); None if it is gone."""
    with reading(engine) as conn:
        r = conn.execute(_PRESENCE_QUERY.where(agents.c.id == agent_id)).first()
    return (
        None
        if r is None
        else AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms)
    )


def list_presence_rows(conn: Connection, oid: int) -> list[AgentPresence]:
    """Every active agent's presence, on the caller's connection (and snapshot)."""
    return list(presence_rows(conn, oid))


def list_presence(engine: Engine, org: str) -> list[AgentPresence]:
    with reading(engine) as conn:
        return list_presence_rows(conn, org_id(conn, org))


@dataclass(frozen=True, slots=True)
class PresencePage:
    agents: list[AgentPresence]
    next_after: str | None
    """Pass as ``after`` to read the next page; None on the last page."""


def read_presence_page(
    engine: Engine, org: str, *, after: str | None = None, limit: int = DEFAULT_PAGE
) -> PresencePage:
    """One page of ``list_presence``: the agents whose user id sorts after ``after``.

    Keyset paging on the (organisation, user id) key: however agents change between
    pages, an agent active throughout is listed exactly once, in order."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if after is not None and (len(after) > MAX_USER_ID or "\x00" in after):
        raise InvalidInput("after must be a user id from a previous page's next_after")
    with reading(engine) as conn:
        found = list(presence_rows(conn, org_id(conn, org), after=after, limit=limit + 1))
    more = len(found) > limit
    return PresencePage(found[:limit], found[limit - 1].user_id if more else None)


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
