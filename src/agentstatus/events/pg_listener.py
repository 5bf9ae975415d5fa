"""Carries PostgreSQL NOTIFY wake-ups from every instance to this instance's streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

from agentstatus.events.hub import EventHub
from agentstatus.storage.outbox import EVENTS_CHANNEL

log = logging.getLogger(__name__)


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

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pg-event-listener")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
