"""Time in status over a past range (on both engines)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.service.reports import time_in_status
from tests.support.factories import make_org
from tests.support.past import write_past

HOUR = 3_600_000


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
