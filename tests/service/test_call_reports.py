"""Calls per agent and day (SPEC 8) on both engines, from days written through the real
paths (tests/support/call_days.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import WRAP_UP_ENDED_REASON, WRAP_UP_REASON
from agentstatus.service.call_reports import calls_csv, calls_report
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.service.timezones import set_timezone
from tests.support.call_days import DAY1, DAY2, WRAP_UP, at, call_writer, two_days
from tests.support.factories import make_org


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
async def changes(any_database_url: str, any_engine: Engine) -> AsyncIterator[StatusChanges]:
    async with standalone_changes(any_database_url) as made:
        yield made


def _figures(rows: list[object]) -> dict[tuple[str, str], dict[str, object]]:
    found: dict[tuple[str, str], dict[str, object]] = {}
    for row in rows:
        shape = row.as_json()  # type: ignore[attr-defined]
        found[(str(shape["user_id"]), str(shape["day"]))] = shape
    return found


async def test_calls_talk_wrap_up_missed_and_occupancy_per_day(
    any_engine: Engine, changes: StatusChanges
) -> None:
    w, ids = await call_writer(any_engine, changes)
    await two_days(w, ids)
    rows = calls_report(any_engine, w.org.name, at(DAY1, "00:00:00"), at(DAY2, "23:30:00"))
    got = _figures(rows)
    assert sorted(got) == [("101", "2026-11-20"), ("101", "2026-11-21"), ("102", "2026-11-20"),
                           ("104", "2026-11-21")]  # fmt: skip
    day1 = got[("101", "2026-11-20")]
    # Talk: 5 minutes (the minute on hold included) and the 10 minutes before midnight.
    assert (day1["calls_answered"], day1["talk_seconds"]) == (2, 15 * 60.0)
    assert (day1["wrap_up_seconds"], day1["missed_calls"]) == (60.0, 2)
    # Taking calls from 08:00 to midnight but 10 minutes in Other and 30 at lunch; the
    # wrap-up minute (status 13 takes no calls) counts too.
    available = 16 * 3600 - 10 * 60 - 30 * 60 - 60 + 60
    assert day1["available_seconds"] == available
    assert day1["occupancy"] == round((15 * 60 + 60) / available, 4)
    day2 = got[("101", "2026-11-21")]
    assert (day2["calls_answered"], day2["talk_seconds"], day2["available_seconds"]) == (
        0,
        600.0,
        1200.0,
    )
    assert day2["occupancy"] == 0.5
    # Logged in, at lunch only: no time to take calls, so no occupancy (not a crash).
    lunch_only = got[("102", "2026-11-20")]
    assert (lunch_only["available_seconds"], lunch_only["occupancy"]) == (0.0, None)
    # A call not ended yet counts to the range's end.
    still = got[("104", "2026-11-21")]
    assert (still["calls_answered"], still["talk_seconds"]) == (1, 1800.0)
    assert still["occupancy"] == round(1800 / 5400, 4)


async def test_a_call_answered_before_the_range_counts_its_part_in_it(
    any_engine: Engine, changes: StatusChanges
) -> None:
    w, ids = await call_writer(any_engine, changes)
    await two_days(w, ids)
    rows = calls_report(any_engine, w.org.name, at(DAY2, "00:00:00"), at(DAY2, "12:00:00"), ["101"])
    assert [(r.user_id, r.day) for r in rows] == [("101", DAY2)]
    shape = rows[0].as_json()
    # Answered before the range (not counted as answered in it), 10 minutes talk in it.
    assert (shape["calls_answered"], shape["talk_seconds"], shape["occupancy"]) == (0, 600.0, 0.5)


async def test_a_range_starting_in_wrap_up_counts_it_and_an_unended_call_stops_at_logout(
    any_engine: Engine, changes: StatusChanges
) -> None:
    w, _ids = await call_writer(any_engine, changes)
    await w.status(at(DAY1, "08:00:00"), "101", LOGIN)
    w.call("101", "c1", at(DAY1, "09:00:00"), at(DAY1, "09:05:00"))
    await w.status(at(DAY1, "09:05:00"), "101", WRAP_UP, Source.PBX, WRAP_UP_REASON)
    await w.status(at(DAY1, "09:15:00"), "101", LOGIN, Source.SYSTEM, WRAP_UP_ENDED_REASON)
    # Its end never recorded: the agent logged out during it.
    w.call("101", "c2", at(DAY1, "10:00:00"), None)
    await w.status(at(DAY1, "10:20:00"), "101", LOGOUT)
    rows = calls_report(any_engine, w.org.name, at(DAY1, "09:10:00"), at(DAY1, "11:00:00"))
    shape = rows[0].as_json()
    assert (shape["wrap_up_seconds"], shape["talk_seconds"], shape["calls_answered"]) == (
        300.0,
        1200.0,
        1,
    )
    assert shape["available_seconds"] == 70 * 60.0
    assert shape["occupancy"] == round(25 / 70, 4)


async def test_the_csv_has_a_row_per_agent_and_day(
    any_engine: Engine, changes: StatusChanges
) -> None:
    w, ids = await call_writer(any_engine, changes)
    await two_days(w, ids)
    rows = calls_report(any_engine, w.org.name, at(DAY1, "00:00:00"), at(DAY2, "23:30:00"))
    lines = calls_csv(rows).splitlines()
    assert lines[0] == (
        "user_id,name,day,calls_answered,talk_seconds,wrap_up_seconds,missed_calls,"
        "available_seconds,occupancy"
    )
    assert lines[1] == "101,Agent 1,2026-11-20,2,900.000,60.000,2,55200.000,0.0174"
    assert lines[3] == "102,Agent 2,2026-11-20,0,0.000,0.000,0,0.000,"


def test_a_range_in_the_year_1_or_ahead_of_now_is_empty(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=1, extension_count=1)
    set_timezone(any_engine, org.name, "America/Los_Angeles")
    year_one = -62_135_596_800_000
    assert calls_report(any_engine, org.name, year_one, year_one + 86_400_000) == []
    soon = now_ms() + 3_600_000
    assert calls_report(any_engine, org.name, soon, soon + 86_400_000) == []
