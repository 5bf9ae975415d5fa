"""Carries wake-ups between instances through PostgreSQL LISTEN/NOTIFY.

Changes are announced after they commit, from a connection of their own, a few
milliseconds later and once per organisation however many changed meanwhile: a NOTIFY
inside each status transaction would make those commits queue behind one another.
A lost announcement costs latency only; streams also poll the durable history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

from agentstatus.events.hub import EventHub
from agentstatus.storage.outbox import EVENTS_CHANNEL

log = logging.getLogger(__name__)

ANNOUNCE_DELAY = 0.005


class PostgresListener:
    def __init__(
        self,
        conninfo: str,
        hub: EventHub,
        *,
        on_notify: Callable[[], None] = lambda: None,
        retry_seconds: float = 1.0,
    ) -> None:
        self._conninfo = conninfo
        self._hub = hub
        self._on_notify = on_notify
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._pending: set[int] = set()
        self._has_pending = asyncio.Event()

    def announce(self, org_id: int | None) -> None:
        """Tell every instance (this one included) that ``org_id`` has new events."""
        if org_id is not None:
            self._pending.add(org_id)
            self._has_pending.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pg-event-listener")
        self._sender = asyncio.create_task(self._send(), name="pg-event-announcer")

    async def close(self) -> None:
        for task in (self._task, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._sender = None

    async def _send(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    # A NOTIFY commits a transaction of its own; it is only a hint, so it
                    # need not wait for its own fsync (nor add one to the status commits').
                    await conn.execute("SET synchronous_commit = off")
                    while True:
                        await self._has_pending.wait()
                        await asyncio.sleep(ANNOUNCE_DELAY)  # gather a few changes
                        self._has_pending.clear()
                        orgs, self._pending = self._pending, set()
                        for org_id in sorted(orgs):
                            await conn.execute(
                                "SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, str(org_id))
                            )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "event announcer lost its connection (%s); retrying", type(exc).__name__
                )
            await asyncio.sleep(self._retry)

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    # Anything committed while we were not listening: let streams look.
                    self._hub.notify(None)
                    async for note in conn.notifies():
                        self._hub.notify(int(note.payload) if note.payload.isdigit() else None)
                        self._on_notify()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener lost its connection (%s); retrying", type(exc).__name__)
            await asyncio.sleep(self._retry)
