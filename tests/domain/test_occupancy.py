"""The pure part of the calls report: spans, stints, a day's figures and the zone's days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.occupancy import (
    AgentCalls,
    calls_day,
    merged,
    stints_of,
    zone_days,
)

HOUR = 3_600_000


def test_spans_merge_and_overlapping_calls_count_once() -> None:
    assert merged([(5, 9), (1, 3), (2, 4), (9, 10), (7, 7)]) == [(1, 4), (5, 10)]


def test_a_call_during_wrap_up_is_not_counted_twice() -> None:
    stints = stints_of(LOGIN, False, [(13, 2 * HOUR, True), (LOGIN, 3 * HOUR, False)], 0, 4 * HOUR)
    # A call from 1:30 to 2:30 overlaps the wrap-up from 2:00 to 3:00.
    agent = AgentCalls(stints, [(HOUR + HOUR // 2, 2 * HOUR + HOUR // 2)], [HOUR + HOUR // 2], [])
    day = calls_day(agent, frozenset({LOGIN}), date(2026, 1, 1), 0, 4 * HOUR)
    assert (day.talk_ms, day.wrap_up_ms, day.busy_ms) == (HOUR, HOUR, HOUR + HOUR // 2)
    assert day.available_ms == 4 * HOUR
    assert day.occupancy == 1.5 / 4


def test_no_time_to_take_calls_has_no_occupancy() -> None:
    stints = stints_of(3, False, [(LOGOUT, HOUR, False)], 0, 2 * HOUR)
    day = calls_day(
        AgentCalls(stints, [], [], [30]), frozenset({LOGIN}), date(2026, 1, 1), 0, 2 * HOUR
    )
    assert (day.available_ms, day.occupancy, day.missed, day.logged_in_ms) == (0, None, 1, HOUR)


def test_the_days_of_a_zone_are_23_or_25_hours_when_the_clocks_change() -> None:
    zone = ZoneInfo("Asia/Jerusalem")
    start = int(datetime(2026, 10, 24, 12, tzinfo=zone).timestamp() * 1000)
    end = int(datetime(2026, 10, 26, 6, tzinfo=zone).timestamp() * 1000)
    days = zone_days(start, end, zone)
    assert [d for d, _, _ in days] == [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]
    assert (days[0][1], days[-1][2]) == (start, end)
    assert (days[1][2] - days[1][1]) == 25 * HOUR  # the clocks went back on 25 October
