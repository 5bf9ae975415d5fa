"""How many event streams each credential (an API token, a web session) has open on this
instance, and the cap on them.

Counted per instance, in memory: a token's streams on other instances are not seen, so
behind a balancer of N instances one token may hold up to N times the cap. A slot is taken
before the stream's snapshot is read (a refused client costs no query) and given back
exactly once, however the stream ends.
"""

from __future__ import annotations

from collections.abc import Callable

from agentstatus.events.credentials import Credential
from agentstatus.service.errors import TooMany

# What a refused client is told to wait: a slot frees when one of its streams ends.
RETRY_AFTER_SECONDS = 5


def _nothing() -> None:
    return None


class StreamSlots:
    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        """0: no cap."""
        self._open: dict[Credential, int] = {}
        self.refused = 0
        """Streams refused since the start."""

    def held(self, credential: Credential) -> int:
        return self._open.get(credential, 0)

    def take(self, credential: Credential | None) -> Callable[[], None]:
        """A slot for one stream of this token, as the function that gives it back
        (idempotent); raises TooMany when the token holds every slot."""
        if credential is None:
            return _nothing
        held = self._open.get(credential, 0)
        if self.per_token and held >= self.per_token:
            self.refused += 1
            raise TooMany(
                f"this {credential.kind} has {held} event streams open, the most allowed "
                "(AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN); close one or try again later",
                RETRY_AFTER_SECONDS,
            )
        self._open[credential] = held + 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if given_back:
                return
            given_back = True
            left = self._open[credential] - 1
            if left:
                self._open[credential] = left
            else:
                del self._open[credential]

        return give_back
