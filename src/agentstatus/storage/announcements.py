"""Wake-ups between instances on one PostgreSQL database: NOTIFY on a channel after a
commit, LISTEN on it. A lost wake-up costs latency only: streams also poll the history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import psycopg

EVENTS_CHANNEL = "agentstatus_events"
_NOTIFY = "SELECT pg_notify(%s, %s)"
_LISTEN = f"LISTEN {EVENTS_CHANNEL}"

_Connection = psycopg.AsyncConnection[tuple[object, ...]]


class Announcer:
    """A connection that announces organisations with new events."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn

    async def announce(self, org_ids: Iterable[int]) -> None:
        for org_id in sorted(set(org_ids)):
            await self._conn.execute(_NOTIFY, (EVENTS_CHANNEL, str(org_id)))


@asynccontextmanager
async def announcing(conninfo: str, *, durable: bool = True) -> AsyncIterator[Announcer]:
    """An announcer on a connection of its own. Not ``durable``: a NOTIFY commits a
    transaction of its own and is only a hint, so it need not wait for its own fsync (nor
    add one to the status commits')."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        if not durable:
            await conn.execute("SET synchronous_commit = off")
        yield Announcer(conn)


@asynccontextmanager
async def listening(conninfo: str) -> AsyncIterator[AsyncIterator[int | None]]:
    """The organisations announced from now on (None: one that cannot be told), until the
    connection fails."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(_LISTEN)

        async def notes() -> AsyncIterator[int | None]:
            async for note in conn.notifies():
                yield int(note.payload) if note.payload.isdigit() else None

        yield notes()
