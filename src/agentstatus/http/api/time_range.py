"""The ``from`` and ``to`` query parameters: ISO 8601 dates or times, read as the command
line reads them (UTC when no offset is given); a bad value is a 422 naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from agentstatus.domain.clock import parse_time
from agentstatus.service.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TimeRange:
    start_ms: int | None
    end_ms: int | None


def _parse(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise InvalidInput(f"'{name}': {exc}") from None
    except OverflowError:
        raise InvalidInput(f"'{name}': {value!r} is out of range") from None


def time_range(
    start: Annotated[
        str | None,
        Query(alias="from", description="ISO 8601 date or time, inclusive (UTC when no offset)."),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", description="ISO 8601 date or time, exclusive (UTC when no offset)."),
    ] = None,
) -> TimeRange:
    return TimeRange(_parse("from", start), _parse("to", end))


Range = Annotated[TimeRange, Depends(time_range)]
