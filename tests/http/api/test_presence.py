"""Presence over the native API: the command line's JSON exactly, and logouts."""

from __future__ import annotations

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import cli_json, set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


def test_presence_is_exactly_what_the_command_line_prints(
    admin: httpx.Client,
    shared_server: ServerProcess,
    shared_database_url: str,
    org: OrgFixture,
) -> None:
    set_status(shared_server, org.code, "101", "sip2", 1)
    set_status(shared_server, org.code, "103", "sip1", 7)
    answer = admin.get(f"/orgs/{org.name}/presence")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body == cli_json(shared_database_url, "presence", org.name)
    assert [(p["user_id"], p["extension"], p["status"]) for p in body] == [
        ("101", "sip2", 1),
        ("102", None, 2),
        ("103", "sip1", 7),
    ]
    assert body[2]["status_name"] == "Private break"
    assert body[0]["since"].endswith("Z")


def test_a_supervisor_logs_one_agent_out(
    client_for: ClientFactory, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "102", "sip3", 3)
    supervisor = client_for(Role.SUPERVISOR, org.name)
    first = supervisor.post(f"/orgs/{org.name}/presence/102/logout")
    assert first.status_code == 200
    assert first.json() == {"logged_out": True}
    assert supervisor.post(f"/orgs/{org.name}/presence/102/logout").json() == {"logged_out": False}
    presence = {p["user_id"]: p for p in supervisor.get(f"/orgs/{org.name}/presence").json()}
    assert presence["102"]["extension"] is None
    assert presence["102"]["status"] == 2
    events = supervisor.get(f"/orgs/{org.name}/history").json()["events"]
    assert [e["source"] for e in events] == ["GET", "admin"]


def test_logging_out_an_unknown_agent_is_404(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/presence/999/logout")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no agent '999' in this organisation"}


def test_an_admin_logs_everyone_out(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    set_status(shared_server, org.code, "102", "sip2", 5)
    answer = admin.post(f"/orgs/{org.name}/presence/logout-all")
    assert answer.status_code == 200
    assert answer.json() == {"logged_out": 2}
    presence = admin.get(f"/orgs/{org.name}/presence").json()
    assert {(p["extension"], p["status"]) for p in presence} == {(None, 2)}
    assert admin.post(f"/orgs/{org.name}/presence/logout-all").json() == {"logged_out": 0}
