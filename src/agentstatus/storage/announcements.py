"""Wake-ups between instances on one PostgreSQL database: NOTIFY on a channel after a
commit, LISTEN on it. A lost wake-up costs latency only: streams also poll the history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import psycopg

EVENTS_CHANNEL = "agentstatus_events"
_NOTIFY = "SELECT pg_notify(%s, %s)"
_LISTEN = f"LISTEN {EVENTS_CHANNEL}"
_REPEATED = "r"

_Connection = psycopg.AsyncConnection[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class Repeated:
    """An agent set the status it was in again (nothing is recorded, so no event tells the
    other instances): ``sender`` is the instance that took the request."""

    sender: str
    org_id: int
    user_id: str
    at_ms: int

    def payload(self) -> str:
        # The user id last: it may hold any character, the colon too.
        return f"{_REPEATED}:{self.sender}:{self.org_id}:{self.at_ms}:{self.user_id}"


def _read(payload: str) -> int | Repeated | None:
    """An organisation with new events, a repeat, or None: a note this version cannot read
    (the listener then wakes every organisation's streams, which only costs a read)."""
    if payload.isdigit():
        return int(payload)
    parts = payload.split(":", 4)
    if len(parts) != 5 or parts[0] != _REPEATED:
        return None
    _, sender, org_id, at_ms, user_id = parts
    if not (sender and org_id.isdigit() and at_ms.isdigit() and user_id):
        return None
    return Repeated(sender, int(org_id), user_id, int(at_ms))


class Announcer:
    """A connection that announces organisations with new events, and repeats."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn

    async def announce(self, org_ids: Iterable[int]) -> None:
        for org_id in sorted(set(org_ids)):
            await self._conn.execute(_NOTIFY, (EVENTS_CHANNEL, str(org_id)))

    async def repeat(self, repeats: Iterable[Repeated]) -> None:
        for note in repeats:
            await self._conn.execute(_NOTIFY, (EVENTS_CHANNEL, note.payload()))


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
async def listening(conninfo: str) -> AsyncIterator[AsyncIterator[int | Repeated | None]]:
    """The organisations announced from now on and the repeats (None: a note that cannot
    be read), until the connection fails. An instance hears its own notes too."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(_LISTEN)

        async def notes() -> AsyncIterator[int | Repeated | None]:
            async for note in conn.notifies():
                yield _read(note.payload)

        yield notes()
