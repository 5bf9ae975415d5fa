"""The one reader of integers that arrive as text (query strings, headers, path segments,
form fields), and the ranges the databases can hold.

``int()`` alone is not a parser for them: it accepts ``"²"`` (``str.isdigit`` says yes)
only to raise later, ``" 12 "``, ``"1_000"`` and ``"+5"``, and it raises ``ValueError``
past 4,300 digits (which surfaced as 500s and 503s). :func:`parse_int` takes ASCII digits
only, at most as many as the range's ends have (leading zeros aside), then the range; it
answers ``None`` for anything else, so a caller has one thing to refuse.
"""

from __future__ import annotations

from typing import TypeGuard

INT32_MAX = 2**31 - 1
"""The largest value of a 32-bit column (status ids, PostgreSQL ``integer``)."""
INT64_MAX = 2**63 - 1
"""The largest value of a 64-bit column (row ids, event ids, milliseconds)."""
INT64_MIN = -(2**63)


def parse_int(text: str | None, low: int = 0, high: int = INT64_MAX) -> int | None:
    """The integer ``text`` writes, when it is ``[-]digits`` in ASCII and within
    ``low..high`` (a minus sign only when ``low`` is negative); else None."""
    if text is None or not text.isascii():
        return None
    negative = text.startswith("-") and low < 0
    digits = text[1:] if negative else text
    if not digits.isdigit():  # ASCII here, so 0-9 only
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > max(len(str(abs(low))), len(str(abs(high)))):
        return None
    value = -int(significant) if negative else int(significant)
    return value if low <= value <= high else None


def in_range(value: object, low: int = 0, high: int = INT64_MAX) -> TypeGuard[int]:
    """Whether ``value`` (already decoded, as from JSON) is an int within ``low..high``;
    a bool is not a number here."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
