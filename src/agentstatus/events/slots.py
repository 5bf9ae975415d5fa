"""How many event streams each credential (an API token, a web session, a panel link) and
each owner (a web user, a panel's agent) has open on this instance, and the cap on them:
the same number for both, so signing in again or asking for another link does not give a
person more streams.

Counted per instance, in memory: a token's streams on other instances are not seen, so
behind a balancer of N instances one token may hold up to N times the cap. A slot is taken
before the stream's snapshot is read (a refused client costs no query) and given back
exactly once, however the stream ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from agentstatus.events.credentials import Credential
from agentstatus.service.errors import TooMany

# What a refused client is told to wait: a slot frees when one of its streams ends.
RETRY_AFTER_SECONDS = 5
K = TypeVar("K")


def _nothing() -> None:
    return None


def _decrement(counts: dict[K, int], key: K) -> None:
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]


class StreamSlots:
    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        """0: no cap."""
        self._open: dict[Credential, int] = {}
        self._owners: dict[str, int] = {}
        self.refused = 0
        """Streams refused since the start."""

    def held(self, credential: Credential) -> int:
        return self._open.get(credential, 0)

    def take(self, credential: Credential | None) -> Callable[[], None]:
        """A slot for one stream of this credential, as the function that gives it back
        (idempotent); raises TooMany when the credential, or its owner, holds every slot."""
        if credential is None:
            return _nothing
        held = self._open.get(credential, 0)
        owner = credential.owner
        owned = 0 if owner is None else self._owners.get(owner, 0)
        if self.per_token and max(held, owned) >= self.per_token:
            self.refused += 1
            kind = owner.partition(":")[0] if owner and owned > held else credential.kind
            raise TooMany(
                f"this {kind} has {max(held, owned)} event streams open, the most allowed "
                "(AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN); close one or try again later",
                RETRY_AFTER_SECONDS,
            )
        self._open[credential] = held + 1
        if owner is not None:
            self._owners[owner] = owned + 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if given_back:
                return
            given_back = True
            _decrement(self._open, credential)
            if owner is not None:
                _decrement(self._owners, owner)

        return give_back
