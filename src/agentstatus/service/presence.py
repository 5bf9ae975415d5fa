"""Presence: who holds which extension in which status, and admin logouts (through the
one status-change path, like every change)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agentstatus.domain.clock import to_iso
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import agents, presence
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine, Row

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


def _shown(r: Row[Any]) -> AgentPresence:
    return AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms)


def presence_rows(
    conn: Connection, oid: int, *, after: str | None = None, limit: int | None = None
) -> Iterator[AgentPresence]:
    """Active agents' presence in user id order, after ``after``, on the caller's
    connection (and snapshot). Rows are fetched a thousand at a time, so a large
    organisation is never held in memory as rows."""
    for r in presence.active_rows(conn, oid, after=after, limit=limit):
        yield _shown(r)


def agent_presence(engine: Engine, agent_id: int) -> AgentPresence | None:
    """One agent's presence by its row id (the panel's agent); None if it is gone."""
    with reading(engine) as conn:
        r = presence.row_of_agent(conn, agent_id)
    return None if r is None else _shown(r)


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
    found = agents.find_id(conn, oid, user_id)
    if found is None:
        raise NotFound(f"no agent {user_id!r} in this organisation")
    return found


def _agent_of(engine: Engine, org: str, user_id: str) -> int:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        agent_row_id(conn, oid, user_id)
        return oid


def _logged_in(engine: Engine, org: str) -> tuple[int, list[str]]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return oid, presence.logged_in_user_ids(conn, oid)


async def force_logout(
    changes: StatusChanges, engine: Engine, org: str, user_id: str, actor: str | None = None
) -> bool:
    """Log one agent out (source ``admin``, ``actor`` who asked); False when it was
    already logged out."""
    oid = await asyncio.to_thread(_agent_of, engine, org, user_id)
    return await changes.logout(oid, user_id, actor=actor)


# Logouts in flight at once: enough to fill an SQLite batch or the PostgreSQL pool, few
# enough that a large organisation does not queue tens of thousands of coroutines.
LOGOUT_CONCURRENCY = 256


async def logout_everyone(
    changes: StatusChanges, engine: Engine, org: str, actor: str | None = None
) -> int:
    """Log every agent of the organisation out (source ``admin``, ``actor`` who asked);
    how many were in."""
    oid, user_ids = await asyncio.to_thread(_logged_in, engine, org)
    count = 0
    for start in range(0, len(user_ids), LOGOUT_CONCURRENCY):
        chunk = user_ids[start : start + LOGOUT_CONCURRENCY]
        done = await asyncio.gather(*(changes.logout(oid, u, actor=actor) for u in chunk))
        count += sum(done)
    return count
