"""The planning of policies, pure, with the clock given: limits, the end of the shift in a
time zone (weekdays, the days the clocks change), and the time over a limit."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstatus.domain.policies import (
    EVERY_DAY,
    Limit,
    LimitAction,
    check_limit,
    limit_due,
    next_shift_end,
    over_limit_ms,
    parse_shift_end,
)

JERUSALEM = ZoneInfo("Asia/Jerusalem")
NEW_YORK = ZoneInfo("America/New_York")


def ms(zone: ZoneInfo, *parts: int, fold: int = 0) -> int:
    return int(datetime(*parts, tzinfo=zone, fold=fold).timestamp() * 1000)  # type: ignore[misc]


def local(zone: ZoneInfo, at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).astimezone(zone).isoformat()


def test_a_limit_is_due_its_length_after_the_status_began() -> None:
    assert limit_due(1_000_000, Limit(90)) == 1_090_000
    assert Limit(90).action is LimitAction.WARN


@pytest.mark.parametrize(("status", "seconds"), [(2, 60), (3, 0), (3, 7 * 86400 + 1)])
def test_limits_that_cannot_be_set(status: int, seconds: int) -> None:
    with pytest.raises(ValueError, match=r"Logout|limit is from"):
        check_limit(status, seconds)


def test_the_time_over_a_limit_counts_from_the_stints_start() -> None:
    # A 10-minute limit; the stint began at 0; the range is minutes 5 to 30.
    minute = 60_000
    assert over_limit_ms(0, 5 * minute, 30 * minute, 600) == 20 * minute
    assert over_limit_ms(0, 0, 8 * minute, 600) == 0
    assert over_limit_ms(0, 12 * minute, 15 * minute, 600) == 3 * minute
    assert over_limit_ms(0, 0, 30 * minute, None) == 0


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 10**5))
def test_over_a_limit_is_never_more_than_the_time_counted(
    stint: int, a: int, b: int, seconds: int
) -> None:
    start, end = sorted((max(a, stint), max(b, stint)))
    over = over_limit_ms(stint, start, end, seconds)
    assert 0 <= over <= end - start


def test_shift_ends_are_parsed() -> None:
    assert parse_shift_end("18:30").days == EVERY_DAY
    shift = parse_shift_end("7:05", "Mon, fri")
    assert (shift.hour, shift.minute, shift.day_names) == (7, 5, ["mon", "fri"])
    assert shift.time == "07:05"
    for bad_time, bad_days in (("24:00", None), ("18:3", None), ("6pm", None), ("18:00", "mo")):
        with pytest.raises(ValueError, match=r"HH:MM|comma-separated"):
            parse_shift_end(bad_time, bad_days)
    with pytest.raises(ValueError, match="comma-separated"):
        parse_shift_end("18:00", " , ")


def test_the_next_shift_end_is_today_or_on_the_next_day_it_applies() -> None:
    weekdays = parse_shift_end("18:00", "mon,tue,wed,thu,fri")
    wednesday_noon = ms(JERUSALEM, 2026, 12, 2, 12, 0)
    assert local(JERUSALEM, next_shift_end(weekdays, wednesday_noon, JERUSALEM)) == (
        "2026-12-02T18:00:00+02:00"
    )
    # At the very moment, the next one is tomorrow: a shift end acts once.
    at_six = ms(JERUSALEM, 2026, 12, 2, 18, 0)
    assert local(JERUSALEM, next_shift_end(weekdays, at_six, JERUSALEM)) == (
        "2026-12-03T18:00:00+02:00"
    )
    friday_night = ms(JERUSALEM, 2026, 12, 4, 20, 0)
    assert local(JERUSALEM, next_shift_end(weekdays, friday_night, JERUSALEM)) == (
        "2026-12-07T18:00:00+02:00"
    )


def test_the_same_wall_time_is_another_instant_in_another_zone() -> None:
    shift = parse_shift_end("18:00")
    after = ms(UTC, 2026, 12, 2, 0, 0)  # type: ignore[arg-type]
    in_jerusalem = next_shift_end(shift, after, JERUSALEM)
    in_new_york = next_shift_end(shift, after, NEW_YORK)
    assert in_new_york - in_jerusalem == 7 * 3600 * 1000


def test_a_daylight_saving_day_when_the_clocks_jump_over_the_shift_end() -> None:
    # Israel, Friday 27 March 2026: 02:00 becomes 03:00. 02:30 does not exist that day: the
    # shift ends when the clocks resume, 03:00 (00:00 UTC).
    shift = parse_shift_end("02:30")
    due = next_shift_end(shift, ms(JERUSALEM, 2026, 3, 26, 12, 0), JERUSALEM)
    assert local(JERUSALEM, due) == "2026-03-27T03:00:00+03:00"
    assert due == ms(UTC, 2026, 3, 27, 0, 0)  # type: ignore[arg-type]
    again = next_shift_end(shift, due, JERUSALEM)
    assert local(JERUSALEM, again) == "2026-03-28T02:30:00+03:00"


def test_a_daylight_saving_day_when_the_clocks_go_back_over_the_shift_end() -> None:
    # Israel, Sunday 25 October 2026: 02:00 becomes 01:00, so 01:30 happens twice; the
    # shift ends at the first, and not again at the second.
    shift = parse_shift_end("01:30")
    due = next_shift_end(shift, ms(JERUSALEM, 2026, 10, 24, 12, 0), JERUSALEM)
    assert local(JERUSALEM, due) == "2026-10-25T01:30:00+03:00"
    again = next_shift_end(shift, due, JERUSALEM)
    assert local(JERUSALEM, again) == "2026-10-26T01:30:00+02:00"


def test_a_23_hour_day_and_a_25_hour_day_keep_the_wall_time() -> None:
    shift = parse_shift_end("18:00")
    before_spring = next_shift_end(shift, ms(NEW_YORK, 2026, 3, 7, 12, 0), NEW_YORK)
    after_spring = next_shift_end(shift, before_spring, NEW_YORK)
    assert after_spring - before_spring == 23 * 3600 * 1000
    before_fall = next_shift_end(shift, ms(NEW_YORK, 2026, 10, 31, 12, 0), NEW_YORK)
    after_fall = next_shift_end(shift, before_fall, NEW_YORK)
    assert after_fall - before_fall == 25 * 3600 * 1000
    assert local(NEW_YORK, after_fall) == "2026-11-01T18:00:00-05:00"
