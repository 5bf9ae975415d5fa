"""Wakes the event streams of an organisation when it may have new events.

A wake-up is only a hint: streams read the durable history themselves, and poll as a
fallback, so a lost hint delays an event by at most one poll interval and loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class EventHub:
    def __init__(self) -> None:
        self._waiters: dict[int, set[asyncio.Event]] = {}

    def notify(self, org_id: int | None) -> None:
        """Wake the streams of one organisation (or of all, when None)."""
        targets = (
            [w for ws in self._waiters.values() for w in ws]
            if org_id is None
            else self._waiters.get(org_id, ())
        )
        for waiter in targets:
            waiter.set()

    @contextmanager
    def listen(self, org_id: int) -> Iterator[asyncio.Event]:
        waiter = asyncio.Event()
        self._waiters.setdefault(org_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(org_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[org_id]

    @property
    def subscribers(self) -> int:
        return sum(len(ws) for ws in self._waiters.values())
