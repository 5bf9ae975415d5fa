"""The wrap-up setting and the next status through the native API: the shapes, and every
refusal with its code from the one error table."""

from __future__ import annotations

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


def test_wrap_up_is_off_by_default_and_set_timed_manual_and_off(
    admin: httpx.Client, org: OrgFixture
) -> None:
    url = f"/orgs/{org.name}/wrap-up"
    assert admin.get(url).json() == {"mode": "off", "seconds": None, "status": 13}
    timed = admin.put(url, json={"mode": "timed", "seconds": 30})
    assert timed.status_code == 200, timed.text
    assert timed.json() == {"mode": "timed", "seconds": 30, "status": 13}
    manual = admin.put(url, json={"mode": "manual", "status": 9})
    assert manual.json() == {"mode": "manual", "seconds": None, "status": 9}
    assert admin.get(url).json() == {"mode": "manual", "seconds": None, "status": 9}
    assert admin.put(url, json={"mode": "off"}).json()["mode"] == "off"


def test_the_wrap_up_status_must_be_an_enabled_one_that_takes_no_calls(
    admin: httpx.Client, org: OrgFixture
) -> None:
    url = f"/orgs/{org.name}/wrap-up"
    for status, words in (
        (1, "a status that takes calls"),
        (2, "Logout"),
        (99, "is not one of"),
    ):
        answer = admin.put(url, json={"mode": "manual", "status": status})
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_error"
        assert words in answer.json()["detail"]
    assert admin.patch(f"/orgs/{org.name}/statuses/11", json={"enabled": False}).is_success
    disabled = admin.put(url, json={"mode": "manual", "status": 11})
    assert disabled.status_code == 422
    assert "disabled" in disabled.json()["detail"]
    assert admin.get(url).json()["mode"] == "off"  # nothing was saved
    # Off always works, whatever became of the status set before.
    assert admin.put(url, json={"mode": "manual"}).status_code == 200
    assert admin.patch(f"/orgs/{org.name}/statuses/13", json={"enabled": False}).is_success
    assert admin.put(url, json={"mode": "off"}).json() == {
        "mode": "off",
        "seconds": None,
        "status": 13,
    }


def test_seconds_are_for_a_timed_wrap_up_only(admin: httpx.Client, org: OrgFixture) -> None:
    url = f"/orgs/{org.name}/wrap-up"
    for body in (
        {"mode": "timed"},
        {"mode": "manual", "seconds": 30},
        {"mode": "off", "seconds": 30},
        {"mode": "timed", "seconds": 0},
        {"mode": "timed", "seconds": 3601},
        {"mode": "later"},
    ):
        answer = admin.put(url, json=body)
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "validation_error"


def test_a_supervisor_reads_the_wrap_up_but_may_not_set_it(
    client_for: ClientFactory, org: OrgFixture
) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.get(f"/orgs/{org.name}/wrap-up").status_code == 200
    refused = supervisor.put(f"/orgs/{org.name}/wrap-up", json={"mode": "manual"})
    assert refused.status_code == 403


def test_a_next_status_is_refused_when_the_agent_is_not_on_a_call(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    url = f"/orgs/{org.name}/presence/101/next"
    logged_out = admin.put(url, json={"status": 3})
    assert logged_out.status_code == 409, logged_out.text
    assert logged_out.json()["code"] == "not_on_call"
    set_status(shared_server, org.code, "101", "sip1", 1)
    idle = admin.put(url, json={"status": 3})
    assert idle.status_code == 409
    assert "neither on a call nor in wrap-up" in idle.json()["detail"]
    unknown = admin.put(f"/orgs/{org.name}/presence/999/next", json={"status": 3})
    assert unknown.status_code == 404
    # Clearing what is not there is no error: the agent, with nothing queued.
    cleared = admin.delete(url)
    assert cleared.status_code == 200
    assert cleared.json()["next_status"] is None
    assert cleared.json()["status"] == 1
    history = admin.get(f"/orgs/{org.name}/history").json()["events"]
    assert [e["new"]["status"] for e in history if e["user_id"] == "101"] == [1]
