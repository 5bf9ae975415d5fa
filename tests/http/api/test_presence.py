"""Presence over the native API: the command line's JSON exactly, in pages, and logouts."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.service.presence import DEFAULT_PAGE, MAX_PAGE, list_presence
from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import cli_json, set_status
from tests.support.bulk import make_big_org
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
    page = answer.json()
    assert page["next_after"] is None
    body = page["agents"]
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
    presence = {
        p["user_id"]: p for p in supervisor.get(f"/orgs/{org.name}/presence").json()["agents"]
    }
    assert presence["102"]["extension"] is None
    assert presence["102"]["status"] == 2
    events = supervisor.get(f"/orgs/{org.name}/history").json()["events"]
    assert [e["source"] for e in events] == ["GET", "admin"]
    assert "actor" not in events[0]  # the wire has no actor
    assert events[1]["actor"].startswith("token:")  # an unlabelled token: its id


def test_logging_out_an_unknown_agent_is_404(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/presence/999/logout")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no agent '999' in this organisation", "code": "not_found"}


def test_an_admin_logs_everyone_out(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    set_status(shared_server, org.code, "102", "sip2", 5)
    answer = admin.post(f"/orgs/{org.name}/presence/logout-all")
    assert answer.status_code == 200
    assert answer.json() == {"logged_out": 2}
    presence = admin.get(f"/orgs/{org.name}/presence").json()["agents"]
    assert {(p["extension"], p["status"]) for p in presence} == {(None, 2)}
    assert admin.post(f"/orgs/{org.name}/presence/logout-all").json() == {"logged_out": 0}


def _all_pages(client: httpx.Client, org: str, limit: int) -> list[list[dict[str, object]]]:
    pages, after = [], None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        answer = client.get(f"/orgs/{org}/presence", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page["agents"])
        after = page["next_after"]
        if after is None:
            return pages
        assert after == page["agents"][-1]["user_id"]


def test_presence_comes_in_pages_that_add_up_to_every_agent(
    admin: httpx.Client, shared_engine: Engine
) -> None:
    org = make_big_org(shared_engine, 2_345)
    everyone = [p.as_json() for p in list_presence(shared_engine, org.name)]
    first = admin.get(f"/orgs/{org.name}/presence").json()
    assert len(first["agents"]) == DEFAULT_PAGE
    assert first["agents"] == everyone[:DEFAULT_PAGE]
    assert first["next_after"] == everyone[DEFAULT_PAGE - 1]["user_id"]
    pages = _all_pages(admin, org.name, 700)
    assert [len(p) for p in pages] == [700, 700, 700, 245]
    assert [a for page in pages for a in page] == everyone
    exact = _all_pages(admin, org.name, 2_345)
    assert [len(p) for p in exact] == [2_345]  # no empty page after an exact fit


def test_paging_is_stable_while_agents_change(
    admin: httpx.Client, shared_engine: Engine, shared_server: ServerProcess
) -> None:
    """Keyset paging: agents added, deactivated or moved between pages never make another
    agent appear twice or go missing."""
    org = make_big_org(shared_engine, 1_500)
    before = [a.user_id for a in list_presence(shared_engine, org.name)]
    first = admin.get(f"/orgs/{org.name}/presence", params={"limit": 500}).json()
    cursor = first["next_after"]
    behind, ahead, gone, moved = before[10], "zz-new", before[900], before[1_200]
    assert behind < cursor < gone < moved < ahead
    for user_id in ("a0-new", ahead):  # one sorts before the cursor, one after
        created = admin.post(f"/orgs/{org.name}/agents", json={"user_id": user_id, "name": "N"})
        assert created.status_code == 201, created.text
    assert admin.patch(f"/orgs/{org.name}/agents/{gone}", json={"active": False}).is_success
    set_status(shared_server, org.code, moved, "e7", 3)
    set_status(shared_server, org.code, behind, "e8", 1)
    rest: list[dict[str, object]] = []
    after = cursor
    while after is not None:
        page = admin.get(f"/orgs/{org.name}/presence", params={"after": after, "limit": 500})
        rest += page.json()["agents"]
        after = page.json()["next_after"]
    seen = [a["user_id"] for a in first["agents"]] + [a["user_id"] for a in rest]
    assert len(seen) == len(set(seen))
    assert set(seen) == (set(before) - {gone}) | {ahead}
    assert seen == sorted(seen, key=[*before, ahead].index)
    assert {a["user_id"]: a["extension"] for a in rest}[moved] == "e7"


def test_bad_paging_parameters_are_422(admin: httpx.Client, org: OrgFixture) -> None:
    url = f"/orgs/{org.name}/presence"
    for params in (
        {"limit": 0},
        {"limit": MAX_PAGE + 1},
        {"limit": "ten"},
        {"after": "x" * 129},
    ):
        answer = admin.get(url, params=params)
        assert answer.status_code == 422, (params, answer.text)
        detail = answer.json()["detail"]
        assert isinstance(detail, list)
        assert detail[0]["loc"][:2] == ["query", next(iter(params))]
    answer = admin.get(url, params={"after": "101\x00"})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "after must be a user id from a previous page's next_after",
        "code": "validation_error",
    }
    # An after that is no agent's user id is a position all the same.
    assert [a["user_id"] for a in admin.get(url, params={"after": "101x"}).json()["agents"]] == [
        "102",
        "103",
    ]
