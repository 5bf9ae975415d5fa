"""What every kind of link shares (panel links, wall links): a bearer token of its own
prefix, shown once and kept only as a digest; a lifetime within bounds; the fragment of
the address that carries it; and the three reasons a link is refused.

The kinds keep their own tables and grants (a panel link is an agent's, a wall link an
organisation's), so a token of one kind is unknown to every other: each looks its digest
up in its own table only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.durations import written
from agentstatus.service.errors import InvalidInput

MAX_TOKEN_LENGTH = 128
"""A longer bearer is no token of ours: refused before it is digested or looked up."""


class LinkRefusal(StrEnum):
    """Why a link is not accepted; the value is the ``reason`` its refusals carry."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Lifetime:
    """How long a kind of link lasts: a default, and bounds a request must keep to."""

    what: str
    """The kind in words, for the refusal: "a panel link"."""
    default: int
    minimum: int
    maximum: int

    def seconds(self, value: int | None) -> int:
        """``value`` (seconds), the default for None; InvalidInput out of bounds."""
        if value is None:
            return self.default
        if not self.minimum <= value <= self.maximum:
            raise InvalidInput(
                f"{self.what} lasts from {self.minimum} seconds to {written(self.maximum)} "
                f"({self.maximum} seconds), not {value}"
            )
        return value


def may_be_token(token: str) -> bool:
    """Whether ``token`` is worth looking up (not empty, not over-long)."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH


def refusal(*, ended: bool, expires_ms: int, now: int) -> LinkRefusal | None:
    """Why a link found by its digest (in the organisation asked) is refused, None when it
    is valid: revoked when ended (revoked, or its agent deactivated), else expired once
    ``expires_ms`` is reached. A link not found is ``UNKNOWN``."""
    if ended:
        return LinkRefusal.REVOKED
    if expires_ms <= now:
        return LinkRefusal.EXPIRED
    return None


def link_url(base_url: str, path: str, fragment: str) -> str:
    """``base_url`` + ``path`` with the token in the fragment, which browsers never send to
    a server: it reaches no access log and no ``Referer``."""
    return f"{base_url.rstrip('/')}{path}#{fragment}"
