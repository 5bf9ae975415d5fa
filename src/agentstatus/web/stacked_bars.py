"""The geometry of the report's chart, free of I/O: one horizontal bar per agent, stacked
by status, all on the scale of the longest; the names in a column before the bars
(on the right of a right-to-left page, with the bars growing leftwards). The names are
drawn with ``text-anchor="end"`` in the page's direction, so they end against the bars
on either side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 1000.0
LABEL_WIDTH = 220.0
ROW_HEIGHT = 28.0
BAR_HEIGHT = 18.0
GAP = 8.0
"""Between the names and the bars."""


@dataclass(frozen=True, slots=True)
class Piece:
    status: int
    seconds: float
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    seconds: float
    y: float
    label_x: float
    label_y: float
    pieces: list[Piece]
    end_x: float = 0.0
    """Where the bar ends, on the side away from the names (a figure may follow it)."""


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    width: float
    height: float


def chart(
    rows: Sequence[tuple[str, Sequence[tuple[int, float]]]],
    *,
    rtl: bool = False,
    width: float = WIDTH,
    label_width: float = LABEL_WIDTH,
    trailing: float = 0.0,
) -> Chart:
    """``rows`` are ``(label, [(status, seconds), …])`` in the order to draw them;
    ``trailing``: room kept after the longest bar for a figure."""
    longest = max((sum(s for _, s in parts) for _, parts in rows), default=0.0)
    span = width - label_width - GAP - trailing
    bars: list[Bar] = []
    for index, (label, parts) in enumerate(rows):
        y = index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        cursor = 0.0
        pieces: list[Piece] = []
        for status, seconds in parts:
            length = seconds / longest * span if longest else 0.0
            start = label_width + GAP + cursor
            x = width - start - length if rtl else start
            pieces.append(Piece(status, seconds, round(x, 2), round(length, 2)))
            cursor += length
        label_x = width - label_width if rtl else label_width
        end = label_width + GAP + cursor
        bars.append(
            Bar(
                label,
                sum(s for _, s in parts),
                round(y, 2),
                label_x,
                round(y + BAR_HEIGHT * 0.75, 2),
                pieces,
                round(width - end if rtl else end, 2),
            )
        )
    return Chart(bars, width, max(len(rows), 1) * ROW_HEIGHT)
