"""Calendar days of the organisation's time zone: the ``day``, ``from`` and ``to`` fields
of the pages, and the instants a day starts and ends (23 or 25 hours apart on the days
the clocks change)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agentstatus.web.messages import N_

DAY_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Far enough for any history, near enough that the next day's midnight still exists.
FIRST_YEAR = 1970
LAST_YEAR = 9998
NOT_A_DAY = N_("Enter a date like 2026-11-26.")


class BadDay(ValueError):
    """A field that is not a day; ``message`` is for the visitor (to be translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_day(text: str | None, default: date) -> date:
    """``YYYY-MM-DD`` (blank or missing: ``default``), or BadDay."""
    value = (text or "").strip()
    if not value:
        return default
    if not DAY_FORMAT.fullmatch(value):
        raise BadDay(NOT_A_DAY)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadDay(NOT_A_DAY) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadDay(NOT_A_DAY)
    return day


def today(zone: ZoneInfo, now_ms: int) -> date:
    return datetime.fromtimestamp(now_ms / 1000, tz=zone).date()


def midnight_ms(day: date, zone: ZoneInfo) -> int:
    """The instant ``day`` begins in ``zone``. Where midnight itself is skipped (clocks
    jumping from 00:00), zoneinfo reads it with the earlier offset: the jump's instant."""
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class DayBounds:
    day: date
    start_ms: int
    end_ms: int

    @property
    def hours(self) -> float:
        return (self.end_ms - self.start_ms) / 3_600_000


def day_bounds(day: date, zone: ZoneInfo) -> DayBounds:
    return DayBounds(day, midnight_ms(day, zone), midnight_ms(day + timedelta(days=1), zone))


def range_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[int, int]:
    """From the start of ``first`` to the end of ``last`` (both days included)."""
    return midnight_ms(first, zone), midnight_ms(last + timedelta(days=1), zone)
