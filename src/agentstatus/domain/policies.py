"""The planning of policies, free of I/O and of the clock (every function is given the
time): when a status's limit passes, when the organisation's shift ends, and how much of a
stretch of time was spent over a limit.

A shift end is a wall-clock time in the organisation's zone on some weekdays. On a day
when that time does not exist (the clocks jump over it) the shift ends when the clocks
resume; on a day when it happens twice (the clocks go back over it) it ends the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from agentstatus.domain.catalogue import LOGOUT

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
MIN_LIMIT_SECONDS = 1
MAX_LIMIT_SECONDS = 7 * 86400


class LimitAction(StrEnum):
    """What happens when an agent stays in a status past its limit."""

    WARN = "warn"
    """An ``agent.overdue`` event; the agent is highlighted on the board and the panel."""
    LOGIN = "login"
    """Back to Login (taking calls again)."""
    LOGOUT = "logout"


@dataclass(frozen=True, slots=True)
class Limit:
    seconds: int
    action: LimitAction = LimitAction.WARN


def check_limit(status: int, seconds: int) -> None:
    """ValueError, saying why, for a limit that cannot be set."""
    if status == LOGOUT:
        raise ValueError("Logout cannot have a limit: use the end of the shift")
    if not MIN_LIMIT_SECONDS <= seconds <= MAX_LIMIT_SECONDS:
        raise ValueError(
            f"a limit is from {MIN_LIMIT_SECONDS} second to 7 days "
            f"({MAX_LIMIT_SECONDS} seconds), not {seconds}"
        )


def limit_due(since_ms: int, limit: Limit) -> int:
    """When an agent in the status since ``since_ms`` passes the limit."""
    return since_ms + limit.seconds * 1000


def over_limit_ms(stint_start_ms: int, start_ms: int, end_ms: int, seconds: int | None) -> int:
    """How much of ``[start_ms, end_ms)``, part of a stint in one status that began at
    ``stint_start_ms``, lies past the status's limit (none without a limit)."""
    if seconds is None:
        return 0
    over_from = max(start_ms, stint_start_ms + seconds * 1000)
    return max(0, end_ms - over_from)


@dataclass(frozen=True, slots=True)
class ShiftEnd:
    hour: int
    minute: int
    days: frozenset[int] = EVERY_DAY
    """Weekdays, Monday 0 to Sunday 6."""

    @property
    def time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    @property
    def day_names(self) -> list[str]:
        return [WEEKDAYS[d] for d in sorted(self.days)]


def parse_shift_end(time: str, days: str | None = None) -> ShiftEnd:
    """``HH:MM`` (24-hour) and ``mon,tue,...`` (default every day); ValueError, saying what
    is expected, for anything else."""
    found = _TIME.fullmatch(time.strip())
    if found is None:
        raise ValueError(f"the shift's end is a time of day as HH:MM (18:30), not {time!r}")
    chosen = EVERY_DAY
    if days is not None:
        names = [d.strip().lower() for d in days.split(",") if d.strip()]
        unknown = [d for d in names if d not in WEEKDAYS]
        if unknown or not names:
            raise ValueError(
                f"days are a comma-separated list of {','.join(WEEKDAYS)}, not {days!r}"
            )
        chosen = frozenset(WEEKDAYS.index(d) for d in names)
    return ShiftEnd(int(found.group(1)), int(found.group(2)), chosen)


def _instant(day: datetime, shift: ShiftEnd, zone: ZoneInfo) -> datetime:
    """The instant the shift ends on local date ``day`` (see the module's docstring)."""
    wall = datetime(day.year, day.month, day.day, shift.hour, shift.minute)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # it exists (fold=0 is the first of two, on a day the clocks go back)
    # A gap: fold=1 reads the missing time with the offset after the jump, an instant before
    # the jump; the jump (the transitions are on whole minutes) is the first minute from
    # there whose local time is past the wall time.
    at = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while at.astimezone(zone).replace(tzinfo=None) < wall:
        at += timedelta(minutes=1)
    return at


def next_shift_end(shift: ShiftEnd, after_ms: int, zone: ZoneInfo) -> int:
    """The first shift end strictly after ``after_ms``, in milliseconds."""
    after = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
    local_day = after.astimezone(zone).date()
    for offset in range(9):
        day = local_day + timedelta(days=offset)
        if day.weekday() not in shift.days:
            continue
        at = _instant(datetime(day.year, day.month, day.day), shift, zone)
        at_ms = int(at.timestamp() * 1000)
        if at_ms > after_ms:
            return at_ms
    raise AssertionError("a shift with at least one weekday ends within 8 days")
