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


ZOOM_PADDING_MS = 30 * 60 * 1000
HOUR_MS = 3600 * 1000
ZOOM_WORTH = 0.75
"""Zoom only when the activity covers less than this share of the day's bar."""


def _local_hour(at_ms: int, zone: ZoneInfo, *, up: bool) -> int:
    """The start of ``at``'s local hour (or of the next one, ``up``, when it is not one)."""
    local = datetime.fromtimestamp(at_ms / 1000, tz=zone)
    floor = local.replace(minute=0, second=0, microsecond=0)
    floor_ms = int(floor.timestamp() * 1000)
    if up and floor_ms < at_ms:
        return floor_ms + HOUR_MS
    return floor_ms


def activity_window(
    found: Sequence[Span], start_ms: int, end_ms: int, zone: ZoneInfo, idle: int
) -> tuple[int, int] | None:
    """The part of ``[start, end)`` worth showing: from half an hour before the first
    span not in status ``idle`` (logged out) to half an hour after the last, on whole
    local hours; None when there is no activity or it fills most of the day anyway."""
    active = [s for s in found if s.status != idle]
    if not active or end_ms <= start_ms:
        return None
    low = max(start_ms, _local_hour(active[0].start_ms - ZOOM_PADDING_MS, zone, up=False))
    high = min(end_ms, _local_hour(active[-1].end_ms + ZOOM_PADDING_MS, zone, up=True))
    if high <= low or (high - low) >= ZOOM_WORTH * (end_ms - start_ms):
        return None
    return low, high


def clipped(found: Sequence[Span], start_ms: int, end_ms: int) -> list[Span]:
    """The spans' parts within ``[start, end)``."""
    return [
        Span(s.status, max(s.start_ms, start_ms), min(s.end_ms, end_ms))
        for s in found
        if s.end_ms > start_ms and s.start_ms < end_ms
    ]
