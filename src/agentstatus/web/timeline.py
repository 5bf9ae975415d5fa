"""The geometry of an agent's day, free of I/O: the spans of time in each status, their
totals, and where the bar's segments and hour ticks fall in the SVG (mirrored for a
right-to-left page, so time runs the way the page reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WIDTH = 1000.0
"""The SVG's user units across the whole day; the picture scales to the page."""
TICK_STEP_MS = 15 * 60 * 1000
"""Every offset in use is a multiple of 15 minutes, so local hours start on this grid."""


@dataclass(frozen=True, slots=True)
class Span:
    status: int
    start_ms: int
    end_ms: int

    @property
    def ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class Total:
    status: int
    ms: int
    share: float
    """Of the time the spans cover (0 to 1)."""


@dataclass(frozen=True, slots=True)
class Segment:
    span: Span
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    hour: int
    at_ms: int


def spans(
    initial: int,
    changes: Sequence[tuple[int, int]],
    start_ms: int,
    end_ms: int,
) -> list[Span]:
    """The statuses over ``[start, end)``: ``initial`` at the start, then each change
    ``(at_ms, new_status)`` (oldest first) from its instant. Changes outside the range
    are left out; neighbours in the same status (an extension change) are one span."""
    found: list[Span] = []
    status, cursor = initial, start_ms
    for at, new in changes:
        if at >= end_ms:
            break
        at = max(at, start_ms)
        if at > cursor:
            found.append(Span(status, cursor, at))
        status, cursor = new, at
    if end_ms > cursor:
        found.append(Span(status, cursor, end_ms))
    merged: list[Span] = []
    for span in found:
        if merged and merged[-1].status == span.status:
            merged[-1] = Span(span.status, merged[-1].start_ms, span.end_ms)
        else:
            merged.append(span)
    return merged


def totals(found: Sequence[Span]) -> list[Total]:
    """Time per status, the longest first."""
    per: dict[int, int] = {}
    for span in found:
        per[span.status] = per.get(span.status, 0) + span.ms
    whole = sum(per.values())
    ordered = sorted(per.items(), key=lambda item: (-item[1], item[0]))
    return [Total(status, ms, ms / whole if whole else 0.0) for status, ms in ordered]


def _x(at_ms: int, start_ms: int, end_ms: int, width: float) -> float:
    return (at_ms - start_ms) / (end_ms - start_ms) * width


def segments(
    found: Sequence[Span], start_ms: int, end_ms: int, *, rtl: bool = False, width: float = WIDTH
) -> list[Segment]:
    """Each span's rectangle on a bar ``width`` across for ``[start, end)``."""
    placed: list[Segment] = []
    for span in found:
        left = _x(span.start_ms, start_ms, end_ms, width)
        right = _x(span.end_ms, start_ms, end_ms, width)
        if rtl:
            left, right = width - right, width - left
        placed.append(Segment(span, round(left, 2), round(right - left, 2)))
    return placed


def hour_ticks(
    start_ms: int, end_ms: int, zone: ZoneInfo, *, rtl: bool = False, width: float = WIDTH
) -> list[Tick]:
    """A tick where each local hour begins: 23 of them on the day the clocks go
    forward, 25 on the day they go back (that hour shows twice)."""
    ticks: list[Tick] = []
    at = start_ms
    while at < end_ms:
        local = datetime.fromtimestamp(at / 1000, tz=zone)
        if local.minute == 0:
            x = _x(at, start_ms, end_ms, width)
            ticks.append(Tick(round(width - x if rtl else x, 2), local.hour, at))
        at += TICK_STEP_MS
    return ticks


def clock(ms: int) -> str:
    """A duration as ``H:MM:SS`` (hours beyond 24 as they are: a range can be long)."""
    seconds = max(ms, 0) // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
