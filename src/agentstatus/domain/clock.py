"""Time as the service keeps it: integer milliseconds since the epoch, shown in UTC."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_iso(ms: int) -> str:
    """``2026-11-26T09:00:00.123Z``: UTC, millisecond precision."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """An ISO 8601 date or date-time as milliseconds; naive times are UTC.

    Raises ValueError with a readable message.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(
            f"not an ISO 8601 date or time: {text!r} (e.g. 2026-11-26 or 2026-11-26T09:00:00Z)"
        ) from None
    return int(moment.timestamp() * 1000)
