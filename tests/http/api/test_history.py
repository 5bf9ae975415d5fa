"""History over the native API: filters, paging, and clear answers to bad parameters."""

from __future__ import annotations

import httpx
import pytest

from tests.http.api.helpers import cli_json, set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


@pytest.fixture
def busy_org(shared_server: ServerProcess, org: OrgFixture) -> OrgFixture:
    """101 logs in, goes to lunch, logs out; 102 logs in."""
    set_status(shared_server, org.code, "101", "sip1", 1)
    set_status(shared_server, org.code, "101", "sip1", 3)
    set_status(shared_server, org.code, "102", "sip2", 1)
    set_status(shared_server, org.code, "101", "sip1", 2)
    return org


def test_history_lists_events_like_the_command_line(
    admin: httpx.Client, shared_database_url: str, busy_org: OrgFixture
) -> None:
    answer = admin.get(f"/orgs/{busy_org.name}/history")
    assert answer.status_code == 200
    body = answer.json()
    assert body == cli_json(shared_database_url, "history", busy_org.name)
    assert body["next_after"] is None
    first = body["events"][0]
    assert first["user_id"] == "101"
    assert first["previous"] == {"extension": None, "status": 2}
    assert first["new"] == {"extension": "sip1", "status": 1}
    assert first["source"] == "GET"
    assert first["client_addr"] == "127.0.0.1"
    assert [e["new"]["status"] for e in body["events"]] == [1, 3, 1, 2]


def test_history_of_one_agent(admin: httpx.Client, busy_org: OrgFixture) -> None:
    answer = admin.get(f"/orgs/{busy_org.name}/history", params={"user_id": "102"})
    events = answer.json()["events"]
    assert [(e["user_id"], e["new"]["extension"]) for e in events] == [("102", "sip2")]


def test_history_in_pages(admin: httpx.Client, busy_org: OrgFixture) -> None:
    path = f"/orgs/{busy_org.name}/history"
    seen: list[int] = []
    after: int | None = None
    for _ in range(10):
        params: dict[str, int] = {"limit": 3} if after is None else {"limit": 3, "after": after}
        page = admin.get(path, params=params).json()
        seen += [e["id"] for e in page["events"]]
        after = page["next_after"]
        if after is None:
            break
    everything = [e["id"] for e in admin.get(path).json()["events"]]
    assert seen == everything
    assert len(everything) == 4


def test_history_in_a_time_range(admin: httpx.Client, busy_org: OrgFixture) -> None:
    path = f"/orgs/{busy_org.name}/history"
    events = admin.get(path).json()["events"]
    second = events[1]["at"]
    within = admin.get(path, params={"from": second, "to": "2999-01-01"}).json()["events"]
    assert [e["id"] for e in within] == [e["id"] for e in events if e["at"] >= second]
    assert admin.get(path, params={"to": "2000-01-01"}).json()["events"] == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "yesterday"}, "'from': not an ISO 8601 date or time: 'yesterday'"),
        ({"to": "2026-02-30"}, "'to': not an ISO 8601 date or time"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "the end of the range is before its start"),
    ],
)
def test_a_bad_time_is_422_with_a_clear_message(
    admin: httpx.Client, org: OrgFixture, params: dict[str, str], fragment: str
) -> None:
    answer = admin.get(f"/orgs/{org.name}/history", params=params)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1001"}, {"after": "-1"}, {"after": "x"}]
)
def test_a_bad_page_parameter_is_422(
    admin: httpx.Client, org: OrgFixture, params: dict[str, str]
) -> None:
    answer = admin.get(f"/orgs/{org.name}/history", params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][0] == "query"


def test_history_of_an_unknown_organisation_is_404(admin: httpx.Client) -> None:
    assert admin.get("/orgs/no-such-org/history").status_code == 404
