"""When to send a request again, and how long to wait first.

Connection errors, timeouts, 502/503/504 and 429 are retried with exponential backoff and
jitter; a ``Retry-After`` header is honoured unless it asks for more than
``max_retry_after`` seconds, in which case the client gives up at once rather than block.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from ..wire.backoff import backoff

__all__ = ["RETRY_HTTP_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRY_HTTP_STATUSES = frozenset({429, 502, 503, 504})

# Transport failures where sending again can help; a bad URL or scheme never will.
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to resend a request, and how long to wait between attempts.

    client = Client(retries=RetryPolicy(retries=5, backoff=0.2, max_retry_after=60))
    client = Client(retries=0)  # one attempt only
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("retries and backoff must not be negative")
        if self.max_retry_after < 0:
            raise ValueError("max_retry_after must not be negative")

    @classmethod
    def of(cls, retries: int | RetryPolicy) -> RetryPolicy:
        return retries if isinstance(retries, RetryPolicy) else cls(retries=retries)

    def backoff_delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1, 2, …): "equal jitter" backoff."""
        return backoff(retry, self.backoff, self.max_backoff)

    def delay(self, retry: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``retry``, or None to give up."""
        if retry > self.retries:
            return None
        if retry_after is None:
            return self.backoff_delay(retry)
        if retry_after > self.max_retry_after:
            return None
        # A little jitter so that many clients told "1 second" do not return together.
        return retry_after + random.uniform(0, min(0.1 * retry_after, 1.0))

    @staticmethod
    def retryable(error: httpx.RequestError) -> bool:
        return isinstance(error, _RETRYABLE_ERRORS)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
