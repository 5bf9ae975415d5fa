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
import secrets
from collections.abc import Callable

from agentstatus.events.hub import EventHub
from agentstatus.storage.announcements import Repeated, announcing, listening

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
        self._repeats: list[Repeated] = []
        self._has_pending = asyncio.Event()
        self.sender = secrets.token_hex(8)
        """This instance, in its repeats' notes (it hears its own and skips them)."""
        self.on_repeat: Callable[[Repeated], None] = lambda _: None
        """Told of another instance's repeat (the service hands it to its monitor)."""
        self.listening = asyncio.Event()
        """Set while LISTEN is in place (a note sent before it is not heard)."""

    def announce(self, org_id: int | None) -> None:
        """Tell every instance (this one included) that ``org_id`` has new events."""
        if org_id is not None:
            self._pending.add(org_id)
            self._has_pending.set()

    def announce_repeat(self, org_id: int, user_id: str, at_ms: int) -> None:
        """Tell the other instances that an agent set its status again (nothing recorded:
        no event will tell them); sent after the organisations announced before it."""
        self._repeats.append(Repeated(self.sender, org_id, user_id, at_ms))
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
                async with announcing(self._conninfo, durable=False) as announcer:
                    while True:
                        await self._has_pending.wait()
                        await asyncio.sleep(ANNOUNCE_DELAY)  # gather a few changes
                        self._has_pending.clear()
                        orgs, self._pending = self._pending, set()
                        repeats, self._repeats = self._repeats, []
                        await announcer.announce(orgs)
                        await announcer.repeat(repeats)
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
                async with listening(self._conninfo) as announced:
                    self.listening.set()
                    # Anything committed while we were not listening: let streams look.
                    self._hub.notify(None)
                    async for note in announced:
                        if isinstance(note, Repeated):
                            if note.sender != self.sender:
                                self.on_repeat(note)
                            continue
                        self._hub.notify(note)
                        self._on_notify()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener lost its connection (%s); retrying", type(exc).__name__)
            finally:
                self.listening.clear()
            await asyncio.sleep(self._retry)
