"""Time in status over a past range (on both engines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import OVERDUE_EVENT, WARN_POLICY
from agentstatus.domain.policies import Limit
from agentstatus.service import policies
from agentstatus.service.reports import time_in_status
from agentstatus.storage.schema import history
from tests.support.factories import make_org
from tests.support.past import write_past

HOUR = 3_600_000
LUNCH = 3


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def test_a_range_before_the_first_change_is_in_the_status_that_change_left(
    any_engine: Engine,
) -> None:
    org = make_org(any_engine, agent_count=1, extension_count=1)
    now = now_ms()
    # Created 10 hours ago, logged in 2 hours ago and still in: the range 8 to 4 hours ago
    # has no change before it or in it, and was spent logged out.
    write_past(any_engine, org.name, "101", now - 10 * HOUR, [(now - 2 * HOUR, LOGIN, "sip1")])
    report = time_in_status(any_engine, org.name, now - 8 * HOUR, now - 4 * HOUR)
    assert [(r.user_id, r.status, r.seconds) for r in report] == [("101", LOGOUT, 4 * 3600.0)]
    # A range reaching now still ends in the current status.
    recent = time_in_status(any_engine, org.name, now - 3 * HOUR, now)
    by_status = {r.status: r.seconds for r in recent}
    assert by_status[LOGOUT] == pytest.approx(3600.0, abs=1)
    assert by_status[LOGIN] == pytest.approx(2 * 3600.0, abs=5)


def test_the_time_over_a_limit_counts_each_stint_from_its_start(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=2, extension_count=2)
    policies.set_limit(any_engine, org.name, LUNCH, Limit(30 * 60))  # 30 minutes
    now = now_ms()
    minute = 60_000
    base = now - 10 * HOUR
    # Agent 101: lunch for 50 minutes (20 over), back, then lunch for 10 (none over).
    write_past(
        any_engine,
        org.name,
        "101",
        base,
        [
            (base + 60 * minute, LOGIN, "sip1"),
            (base + 120 * minute, LUNCH, "sip1"),
            (base + 170 * minute, LOGIN, "sip1"),
            (base + 200 * minute, LUNCH, "sip1"),
            (base + 210 * minute, LOGOUT, None),
        ],
    )
    report = time_in_status(any_engine, org.name, base, now)
    lunch = next(r for r in report if r.user_id == "101" and r.status == LUNCH)
    assert lunch.seconds == 60 * 60
    assert lunch.over_limit_seconds == 20 * 60
    login = next(r for r in report if r.user_id == "101" and r.status == LOGIN)
    assert login.over_limit_seconds == 0  # no limit
    # A range that starts inside the long lunch: the stint still began at minute 120.
    part = time_in_status(any_engine, org.name, base + 160 * minute, base + 180 * minute)
    inside = next(r for r in part if r.user_id == "101" and r.status == LUNCH)
    assert (inside.seconds, inside.over_limit_seconds) == (10 * 60, 10 * 60)


def test_a_warning_row_is_not_a_change_of_status(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=1, extension_count=1)
    policies.set_limit(any_engine, org.name, LUNCH, Limit(30 * 60))
    now = now_ms()
    minute = 60_000
    base = now - 5 * HOUR
    write_past(
        any_engine,
        org.name,
        "101",
        base,
        [(base + 10 * minute, LUNCH, "sip1"), (base + 70 * minute, LOGIN, "sip1")],
    )
    with any_engine.begin() as conn:  # the warning the deadline wrote at minute 40
        row = conn.execute(select(history).where(history.c.new_status == LUNCH)).one()
        conn.execute(
            insert(history)
            .values(
                **{k: v for k, v in row._mapping.items() if k != "id"},
            )
            .values(
                at_ms=base + 40 * minute, policy=WARN_POLICY, prev_status=LUNCH, kind=OVERDUE_EVENT
            )
        )
    report = time_in_status(any_engine, org.name, base, base + 2 * HOUR)
    lunch = next(r for r in report if r.status == LUNCH)
    assert (lunch.seconds, lunch.over_limit_seconds) == (60 * 60, 30 * 60)
