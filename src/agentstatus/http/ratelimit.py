"""The failed-authentication limiter of SPEC.md section 6.

Only failures count: each client address may fail ``limit`` times in a window; after
that it is answered 429 until the window (which opened at its first failure) closes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

_PRUNE_ABOVE = 50_000


class FailedAuthLimiter:
    def __init__(
        self,
        limit: int = 20,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, tuple[float, int]] = {}

    def retry_after(self, address: str | None) -> int | None:
        """Seconds to wait when the address is blocked now, else None."""
        if address is None or self.limit <= 0:
            return None
        entry = self._failures.get(address)
        if entry is None:
            return None
        opened, count = entry
        remaining = opened + self.window - self._clock()
        if remaining <= 0:
            del self._failures[address]
            return None
        return max(1, math.ceil(remaining)) if count >= self.limit else None

    def record_failure(self, address: str | None) -> None:
        if address is None or self.limit <= 0:
            return
        now = self._clock()
        opened, count = self._failures.get(address, (now, 0))
        if now - opened >= self.window:
            opened, count = now, 0
        self._failures[address] = (opened, count + 1)
        if len(self._failures) > _PRUNE_ABOVE:
            self._prune(now)

    def _prune(self, now: float) -> None:
        expired = [a for a, (opened, _) in self._failures.items() if now - opened >= self.window]
        for address in expired:
            del self._failures[address]
