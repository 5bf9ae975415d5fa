"""The geometry of an agent's day and of the report's chart, as pure functions: spans,
totals, segments and hour ticks, on ordinary days and on the days the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from agentstatus.web.days import BadDay, day_bounds, parse_day, range_bounds, today
from agentstatus.web.stacked_bars import GAP, LABEL_WIDTH, WIDTH, chart
from agentstatus.web.timeline import (
    Span,
    activity_window,
    clipped,
    clock,
    hour_ticks,
    segments,
    spans,
    totals,
)

JERUSALEM = ZoneInfo("Asia/Jerusalem")
LONDON = ZoneInfo("Europe/London")
HOUR = 3_600_000
MINUTE = 60_000


def at(zone: ZoneInfo, *parts: int) -> int:
    return int(datetime(*parts, tzinfo=zone).timestamp() * 1000)  # type: ignore[misc]


def test_an_ordinary_day_has_24_hours_and_24_ticks() -> None:
    bounds = day_bounds(date(2026, 12, 1), JERUSALEM)
    assert bounds.start_ms == at(UTC, 2026, 11, 30, 22)
    assert bounds.hours == 24
    ticks = hour_ticks(bounds.start_ms, bounds.end_ms, JERUSALEM)
    assert [t.hour for t in ticks] == list(range(24))
    assert [t.x for t in ticks[:3]] == [0, pytest.approx(1000 / 24, abs=0.01), 83.33]


def test_the_day_jerusalem_goes_forward_has_23_hours() -> None:
    # 2026-03-27: at 02:00 the clocks jump to 03:00.
    bounds = day_bounds(date(2026, 3, 27), JERUSALEM)
    assert bounds.hours == 23
    ticks = hour_ticks(bounds.start_ms, bounds.end_ms, JERUSALEM)
    assert len(ticks) == 23
    assert [t.hour for t in ticks[:4]] == [0, 1, 3, 4]
    # Noon is 11 real hours into that day: the bar is drawn by time, not by the clock.
    noon = at(JERUSALEM, 2026, 3, 27, 12)
    found = spans(2, [(noon, 1)], bounds.start_ms, bounds.end_ms)
    assert found == [Span(2, bounds.start_ms, noon), Span(1, noon, bounds.end_ms)]
    first, second = segments(found, bounds.start_ms, bounds.end_ms)
    assert first.x == 0
    assert first.width == pytest.approx(11 / 23 * 1000, abs=0.01)
    assert second.x + second.width == pytest.approx(1000)
    assert totals(found)[0].ms == 12 * HOUR


def test_the_day_london_goes_back_has_25_hours_and_one_oclock_twice() -> None:
    bounds = day_bounds(date(2026, 10, 25), LONDON)
    assert bounds.hours == 25
    ticks = hour_ticks(bounds.start_ms, bounds.end_ms, LONDON)
    assert [t.hour for t in ticks[:4]] == [0, 1, 1, 2]
    assert len(ticks) == 25
    found = spans(3, [], bounds.start_ms, bounds.end_ms)
    assert totals(found)[0].ms == 25 * HOUR


def test_the_day_london_goes_forward_has_23_hours() -> None:
    bounds = day_bounds(date(2026, 3, 29), LONDON)
    assert bounds.hours == 23
    assert [t.hour for t in hour_ticks(bounds.start_ms, bounds.end_ms, LONDON)][:3] == [0, 2, 3]


def test_one_status_all_day_is_one_segment_across() -> None:
    bounds = day_bounds(date(2026, 12, 1), LONDON)
    found = spans(1, [], bounds.start_ms, bounds.end_ms)
    assert len(found) == 1
    (only,) = segments(found, bounds.start_ms, bounds.end_ms)
    assert (only.x, only.width) == (0, 1000)
    (total,) = totals(found)
    assert (total.status, total.ms, total.share) == (1, 24 * HOUR, 1.0)


def test_changes_outside_the_range_and_repeated_statuses() -> None:
    start, end = 10 * HOUR, 20 * HOUR
    changes = [
        (5 * HOUR, 3),  # before the range: the range starts in 3
        (12 * HOUR, 1),
        (13 * HOUR, 1),  # an extension change: the same status goes on
        (15 * HOUR, 2),
        (25 * HOUR, 7),  # after the range: not drawn
    ]
    found = spans(9, changes, start, end)
    assert found == [
        Span(3, start, 12 * HOUR),
        Span(1, 12 * HOUR, 15 * HOUR),
        Span(2, 15 * HOUR, end),
    ]
    assert [(t.status, t.ms) for t in totals(found)] == [
        (2, 5 * HOUR),
        (1, 3 * HOUR),
        (3, 2 * HOUR),
    ]
    assert sum(t.share for t in totals(found)) == pytest.approx(1.0)


def test_an_empty_range_has_no_span() -> None:
    assert spans(1, [], 10, 10) == []
    assert totals([]) == []


def test_a_day_running_to_now_stops_there() -> None:
    bounds = day_bounds(date(2026, 12, 1), LONDON)
    now = bounds.start_ms + 6 * HOUR
    (seg,) = segments(spans(1, [], bounds.start_ms, now), bounds.start_ms, bounds.end_ms)
    assert seg.width == 250


def test_right_to_left_mirrors_the_bar_and_the_ticks() -> None:
    bounds = day_bounds(date(2026, 12, 1), LONDON)
    six = bounds.start_ms + 6 * HOUR
    found = spans(2, [(six, 1)], bounds.start_ms, bounds.end_ms)
    first, second = segments(found, bounds.start_ms, bounds.end_ms, rtl=True)
    assert (first.x, first.width) == (750, 250)
    assert (second.x, second.width) == (0, 750)
    ticks = hour_ticks(bounds.start_ms, bounds.end_ms, LONDON, rtl=True)
    assert ticks[0].x == 1000
    assert ticks[6].x == 750


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0:00:00"), (61_999, "0:01:01"), (25 * HOUR + 5000, "25:00:05"), (-5, "0:00:00")],
)
def test_durations_read_as_a_clock(ms: int, text: str) -> None:
    assert clock(ms) == text


@pytest.mark.parametrize(
    "text",
    [
        "26-11-2026",
        "2026-13-01",
        "2026-02-30",
        "tomorrow",
        "0001-01-01",
        "2026-1-1",
        "9999-12-31",
        "\u0662\u0660\u0662\u0666-01-01",
    ],
)
def test_a_bad_day_is_refused(text: str) -> None:
    with pytest.raises(BadDay):
        parse_day(text, date(2026, 1, 1))


def test_a_blank_day_is_the_default() -> None:
    assert parse_day(None, date(2026, 1, 1)) == date(2026, 1, 1)
    assert parse_day("  ", date(2026, 1, 1)) == date(2026, 1, 1)
    assert parse_day("2026-03-27", date(2026, 1, 1)) == date(2026, 3, 27)


def test_today_and_a_range_of_days_are_in_the_zone() -> None:
    # 23:30 UTC on 30 November is already 1 December in Jerusalem.
    assert today(JERUSALEM, at(UTC, 2026, 11, 30, 23, 30)) == date(2026, 12, 1)
    assert today(LONDON, at(UTC, 2026, 11, 30, 23, 30)) == date(2026, 11, 30)
    start, end = range_bounds(date(2026, 3, 27), date(2026, 3, 28), JERUSALEM)
    assert end - start == 47 * HOUR


def test_the_chart_scales_every_bar_to_the_longest() -> None:
    drawn = chart([("Ann", [(1, 30.0), (3, 10.0)]), ("Bob", [(2, 20.0)])])
    ann, bob = drawn.bars
    span = WIDTH - LABEL_WIDTH - GAP
    assert [p.width for p in ann.pieces] == [pytest.approx(span * 0.75), pytest.approx(span * 0.25)]
    assert ann.pieces[0].x == LABEL_WIDTH + GAP
    assert ann.pieces[1].x == pytest.approx(LABEL_WIDTH + GAP + span * 0.75)
    assert bob.pieces[0].width == pytest.approx(span / 2)
    assert (ann.seconds, bob.seconds) == (40.0, 20.0)
    assert bob.y > ann.y
    assert drawn.height == 2 * (bob.y - ann.y)


def test_the_chart_mirrors_right_to_left() -> None:
    drawn = chart([("Ann", [(1, 30.0), (3, 10.0)])], rtl=True)
    (ann,) = drawn.bars
    span = WIDTH - LABEL_WIDTH - GAP
    assert ann.label_x == WIDTH - LABEL_WIDTH
    first, second = ann.pieces
    assert first.x + first.width == pytest.approx(WIDTH - LABEL_WIDTH - GAP)
    assert second.x == pytest.approx(WIDTH - LABEL_WIDTH - GAP - span)


def test_an_empty_chart_has_no_bars() -> None:
    drawn = chart([])
    assert drawn.bars == []
    assert drawn.height > 0


def test_the_window_of_activity_is_whole_hours_around_it() -> None:
    zone = ZoneInfo("Asia/Jerusalem")
    start = int(datetime(2026, 11, 3, tzinfo=zone).timestamp() * 1000)
    end = start + 24 * HOUR
    worked = spans(
        2, [(start + 8 * HOUR + 10 * MINUTE, 1), (start + 16 * HOUR + 50 * MINUTE, 2)], start, end
    )
    assert activity_window(worked, start, end, zone, 2) == (start + 7 * HOUR, start + 18 * HOUR)
    assert activity_window(spans(2, [], start, end), start, end, zone, 2) is None
    long_day = spans(2, [(start + 30 * MINUTE, 1), (start + 23 * HOUR, 2)], start, end)
    assert activity_window(long_day, start, end, zone, 2) is None  # no zoom worth making
    assert clipped(worked, start + 7 * HOUR, start + 18 * HOUR) == [
        Span(2, start + 7 * HOUR, start + 8 * HOUR + 10 * MINUTE),
        Span(1, start + 8 * HOUR + 10 * MINUTE, start + 16 * HOUR + 50 * MINUTE),
        Span(2, start + 16 * HOUR + 50 * MINUTE, start + 18 * HOUR),
    ]
