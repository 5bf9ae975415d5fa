"""Exponential backoff with jitter, the one formula of the client's retries, the webhook
deliveries and the phone-system links. Here, in the standard-library-only package, because
the client may import nothing else of agentstatus."""

from __future__ import annotations

import random


def jitter(delay: float, low: float = 0.5, high: float = 1.0) -> float:
    """``delay`` times a random factor in ``low..high`` (the default, "equal jitter", keeps
    at least half the delay), so that clients failing together do not return together."""
    return delay * random.uniform(low, high)


def backoff(attempt: int, base: float, cap: float, *, low: float = 0.5, high: float = 1.0) -> float:
    """Seconds to wait before attempt number ``attempt`` (1, 2, …): ``base`` doubled at
    each attempt, at most ``cap``, jittered."""
    return jitter(min(cap, base * 2.0 ** (attempt - 1)), low, high)
