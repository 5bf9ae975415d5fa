"""``agentstatus queues`` and ``agentstatus queue-service-level``, through the command line,
on both engines."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms
from agentstatus.domain.queues import CallerChange
from agentstatus.service.queues import queues_now
from tests.cli.helpers import Outcome, assert_user_error, invoke, ok
from tests.conftest import OrgFactory
from tests.support.queues import ended, joined, write_callers


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    return shared_database_url_on_each_engine


def _day(engine: Engine, org: str) -> int:
    now = now_ms()
    write_callers(
        engine,
        org,
        [
            joined("support", "c0", "0501", now - 90_000),
            joined("support", "c1", "0502", now - 80_000),
            joined("support", "c2", "", now - 75_000),
            ended(CallerChange.ANSWERED, "support", "c0", "0501", now - 80_000),  # 10 s
            ended(CallerChange.ABANDONED, "support", "c1", "0502", now - 50_000),
        ],
    )
    return now


def test_queues_are_shown_as_a_table_and_as_json(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    assert "(none)" in ok(shared_database_url, "queues", org.name).stdout
    _day(shared_engine, org.name)
    header, row = ok(shared_database_url, "queues", org.name).stdout.strip().splitlines()
    assert header.split("  ")[0] == "QUEUE"
    for title in ("WAITING", "LONGEST WAIT", "OFFERED", "ANSWERED", "ABANDONED"):
        assert title in header
    assert "SERVICE LEVEL" in header
    assert "AVERAGE WAIT" in header
    cells = row.split()
    assert cells[:2] == ["support", "1"]
    assert cells[2].endswith("s")
    assert cells[2].startswith("1m1")
    assert cells[3:6] == ["3", "1", "1"]
    assert " ".join(cells[6:9]) == "50% in 20s"  # 1 within, of 1 answered + 1 abandoned
    assert cells[9] == "10s"
    printed = json.loads(ok(shared_database_url, "queues", org.name, "--json").stdout)
    (support,) = printed
    assert support["name"] == "support"
    assert [w["call_id"] for w in support["waiting"]] == ["c2"]
    assert support["today"]["offered"] == 3
    assert support["today"]["service_level"] == 0.5
    assert support["today"]["average_wait_seconds"] == 10.0


def test_a_queues_service_level_is_set_as_a_duration(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    _day(shared_engine, org.name)
    said = ok(shared_database_url, "queue-service-level", org.name, "support", "45s").stdout
    assert said.strip() == f"{org.name}: queue support: service level counts answers within 45s"
    ok(shared_database_url, "queue-service-level", org.name, "support", "1m")
    (support,) = queues_now(shared_engine, org.name, now_ms())
    assert support.settings.service_level_seconds == 60

    def run(*args: str) -> Outcome:
        return invoke(shared_database_url, "queue-service-level", org.name, *args)

    assert_user_error(run("support", "0s"), "from 1 second to 3600 seconds")
    assert_user_error(run("support", "2h"), "not 7200")
    assert_user_error(run("nobody", "20s"), "no queue 'nobody'")
    soon = run("support", "soon")
    assert soon.code == 2  # a usage error, saying what is expected
    assert "90s, 15m" in soon.stderr
    assert_user_error(
        invoke(shared_database_url, "queue-service-level", "no-such-org", "support", "20s"),
        "no-such-org",
    )
    (support,) = queues_now(shared_engine, org.name, now_ms())
    assert support.settings.service_level_seconds == 60  # nothing else was set
