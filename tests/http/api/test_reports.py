"""The time-in-status report over the native API, as JSON and as CSV."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.http.api.helpers import set_status
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
