"""How many event streams each token has open on this instance, and the cap on them.

Counted per instance, in memory: a token's streams on other instances are not seen, so
behind a balancer of N instances one token may hold up to N times the cap. A slot is taken
before the stream's snapshot is read (a refused client costs no query) and given back
exactly once, however the stream ends.
"""

from __future__ import annotations

from collections.abc import Callable

from agentstatus.service.errors import TooMany

# What a refused client is told to wait: a slot frees when one of its streams ends.
RETRY_AFTER_SECONDS = 5


def _nothing() -> None:
    return None


class StreamSlots:
    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        """0: no cap."""
        self._open: dict[int, int] = {}
        self.refused = 0
        """Streams refused since the start."""

    def held(self, token_id: int) -> int:
        return self._open.get(token_id, 0)

    def take(self, token_id: int | None) -> Callable[[], None]:
        """A slot for one stream of this token, as the function that gives it back
        (idempotent); raises TooMany when the token holds every slot."""
        if token_id is None:
            return _nothing
        held = self._open.get(token_id, 0)
        if self.per_token and held >= self.per_token:
            self.refused += 1
            raise TooMany(
                f"this token has {held} event streams open, the most allowed "
                "(AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN); close one or try again later",
                RETRY_AFTER_SECONDS,
            )
        self._open[token_id] = held + 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if given_back:
                return
            given_back = True
            left = self._open[token_id] - 1
            if left:
                self._open[token_id] = left
            else:
                del self._open[token_id]

        return give_back
