"""The reports over the native API, as JSON and as CSV: time in status, and calls per
agent and day."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service.status_change import standalone_changes
from tests.http.api.helpers import set_status
from tests.support.call_days import call_writer, two_days
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


@pytest.fixture
def working_org(shared_server: ServerProcess, org: OrgFixture) -> OrgFixture:
    set_status(shared_server, org.code, "101", "sip1", 1)
    set_status(shared_server, org.code, "102", "sip2", 3)
    return org


def test_the_report_covers_the_last_day_by_default(
    admin: httpx.Client, working_org: OrgFixture
) -> None:
    answer = admin.get(f"/orgs/{working_org.name}/reports/time-in-status")
    assert answer.status_code == 200
    rows = answer.json()
    by_agent: dict[str, set[int]] = {}
    for row in rows:
        assert set(row) == {
            "user_id",
            "name",
            "status",
            "status_name",
            "seconds",
            "over_limit_seconds",
        }
        assert row["seconds"] > 0
        by_agent.setdefault(row["user_id"], set()).add(row["status"])
    assert by_agent["101"] >= {1}
    assert by_agent["102"] >= {3}
    assert by_agent["103"] == {2}
    lunch = next(r for r in rows if r["user_id"] == "102" and r["status"] == 3)
    assert lunch["status_name"] == "Lunch break"


def test_the_report_for_some_agents(admin: httpx.Client, working_org: OrgFixture) -> None:
    answer = admin.get(
        f"/orgs/{working_org.name}/reports/time-in-status",
        params=[("user_id", "101"), ("user_id", "103")],
    )
    assert {r["user_id"] for r in answer.json()} == {"101", "103"}


def test_the_report_as_csv(admin: httpx.Client, working_org: OrgFixture) -> None:
    answer = admin.get(f"/orgs/{working_org.name}/reports/time-in-status", params={"format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == (
        "user_id,name,status,status_name,seconds,over_limit_seconds"
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["user_id"] for r in rows} == {"101", "102", "103"}
    assert all(float(r["seconds"]) > 0 for r in rows)


def test_an_explicit_range_before_anything_happened_is_empty(
    admin: httpx.Client, working_org: OrgFixture
) -> None:
    answer = admin.get(
        f"/orgs/{working_org.name}/reports/time-in-status",
        params={"from": "2020-01-01", "to": "2020-01-02T00:00:00+02:00"},
    )
    assert answer.status_code == 200
    assert answer.json() == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "2020-01-01", "to": "2022-01-01"}, "a report covers at most 366 days"),
        ({"from": "2026-01-02", "to": "2026-01-01"}, "must be after its start"),
        ({"to": "soon"}, "'to': not an ISO 8601 date or time"),
    ],
)
def test_a_bad_range_is_422(
    admin: httpx.Client, org: OrgFixture, params: dict[str, str], fragment: str
) -> None:
    answer = admin.get(f"/orgs/{org.name}/reports/time-in-status", params=params)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


def test_an_unknown_format_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.get(f"/orgs/{org.name}/reports/time-in-status", params={"format": "xml"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "format"]


def test_more_than_1000_agents_in_one_report_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    params = {"user_id": [str(i) for i in range(1001)]}
    answer = admin.get(f"/orgs/{org.name}/reports/time-in-status", params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "user_id"]


async def test_calls_per_agent_and_day_as_json_and_csv(
    admin: httpx.Client, shared_engine: Engine, shared_database_url: str
) -> None:
    async with standalone_changes(shared_database_url) as changes:
        writer, ids = await call_writer(shared_engine, changes)
        await two_days(writer, ids)
    params = {"from": "2026-11-20T00:00:00+02:00", "to": "2026-11-21T23:30:00+02:00"}
    answer = admin.get(f"/orgs/{writer.org.name}/reports/calls", params=params)
    assert answer.status_code == 200
    rows = {(r["user_id"], r["day"]): r for r in answer.json()}
    assert list(rows) == [
        ("101", "2026-11-20"),
        ("101", "2026-11-21"),
        ("102", "2026-11-20"),
        ("104", "2026-11-21"),
    ]
    assert rows[("101", "2026-11-20")] == {
        "user_id": "101",
        "name": "Agent 1",
        "day": "2026-11-20",
        "calls_answered": 2,
        "talk_seconds": 900.0,
        "wrap_up_seconds": 60.0,
        "missed_calls": 2,
        "available_seconds": 55200.0,
        "occupancy": 0.0174,
    }
    assert rows[("102", "2026-11-20")]["occupancy"] is None
    some = admin.get(
        f"/orgs/{writer.org.name}/reports/calls", params={**params, "user_id": "104"}
    ).json()
    assert [(r["user_id"], r["talk_seconds"]) for r in some] == [("104", 1800.0)]
    as_csv = admin.get(f"/orgs/{writer.org.name}/reports/calls", params={**params, "format": "csv"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    lines = as_csv.text.splitlines()
    assert lines[0] == (
        "user_id,name,day,calls_answered,talk_seconds,wrap_up_seconds,missed_calls,"
        "available_seconds,occupancy"
    )
    assert lines[3] == "102,Agent 2,2026-11-20,0,0.000,0.000,0,0.000,"


def test_a_bad_range_of_the_calls_report_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.get(
        f"/orgs/{org.name}/reports/calls", params={"from": "2026-01-02", "to": "2026-01-01"}
    )
    assert answer.status_code == 422
    assert "must be after its start" in answer.json()["detail"]
