"""What a log line or an error message may show of a request: the ``Code`` is the
organisation's secret, whatever the case or spacing of its name, so its value is shown as
``REDACTED``. The server's logs and the client's exceptions read the same rule."""

from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")

REDACTED = "[redacted]"


def parameter_name(key: str) -> str:
    """A parameter's name as the endpoints match it (``" CODE"`` is the Code)."""
    return key.strip().lower()


def is_secret(key: str) -> bool:
    return parameter_name(key) == "code"


def shown(key: str, value: V) -> V | str:
    """``value``, or ``REDACTED`` when ``key`` names the Code."""
    return REDACTED if is_secret(key) else value
