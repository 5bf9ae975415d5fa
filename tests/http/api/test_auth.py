"""Bearer-token authentication, roles and organisation scope, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service.tokens import Role, create_token, revoke_token
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

READS = [
    "/orgs/{org}/agents",
    "/orgs/{org}/extensions",
    "/orgs/{org}/statuses",
    "/orgs/{org}/presence",
    "/orgs/{org}/history",
    "/orgs/{org}/reports/time-in-status",
]
ADMIN_ONLY: list[tuple[str, str, dict[str, object] | None]] = [
    ("POST", "/orgs/{org}/agents", {"user_id": "900"}),
    ("PATCH", "/orgs/{org}/agents/101", {"name": "Renamed"}),
    ("POST", "/orgs/{org}/extensions", {"extension": "sip900"}),
    ("DELETE", "/orgs/{org}/extensions/sip1", None),
    ("POST", "/orgs/{org}/statuses", {"id": 40, "name": "Coaching"}),
    ("PATCH", "/orgs/{org}/statuses/3", {"name": "Lunch"}),
    ("POST", "/orgs/{org}/rotate-code", None),
    ("PUT", "/orgs/{org}/allowlist", {"entries": ["10.0.0.0/8"]}),
    ("POST", "/orgs/{org}/presence/logout-all", None),
]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/orgs"), ("POST", "/orgs"), ("GET", "/orgs/acme/presence")],
)
def test_a_request_without_a_token_is_401_with_a_bearer_challenge(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    answer = anonymous.request(method, path)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token is required" in answer.json()["detail"]


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "not-a-scheme"]
)
def test_a_bad_token_is_401(anonymous: httpx.Client, authorization: str) -> None:
    answer = anonymous.get("/orgs", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(
    shared_engine: Engine, anonymous: httpx.Client, org: OrgFixture
) -> None:
    created = create_token(shared_engine, Role.ADMIN)
    headers = {"Authorization": f"Bearer {created.token}"}
    assert anonymous.get(f"/orgs/{org.name}/agents", headers=headers).status_code == 200
    revoke_token(shared_engine, created.info.id)
    answer = anonymous.get(f"/orgs/{org.name}/agents", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {
        "detail": "the bearer token is unknown or revoked",
        "code": "unauthorized",
    }


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_a_supervisor_may_not_change_anything(
    client_for: ClientFactory,
    org: OrgFixture,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    supervisor = client_for(Role.SUPERVISOR)
    answer = supervisor.request(method, path.format(org=org.name), json=body)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "this needs an admin token", "code": "forbidden"}


def test_a_supervisor_refusal_changes_nothing(
    client_for: ClientFactory, admin: httpx.Client, org: OrgFixture
) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.post(f"/orgs/{org.name}/agents", json={"user_id": "900"}).status_code == 403
    assert supervisor.post("/orgs", json={"name": f"{org.name}-x"}).status_code == 403
    agents = [a["user_id"] for a in admin.get(f"/orgs/{org.name}/agents").json()]
    assert agents == org.agents
    assert f"{org.name}-x" not in [o["name"] for o in admin.get("/orgs").json()]


def test_a_supervisor_reads_everything_and_logs_an_agent_out(
    client_for: ClientFactory, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    supervisor = client_for(Role.SUPERVISOR, org.name)
    for path in READS:
        answer = supervisor.get(path.format(org=org.name))
        assert answer.status_code == 200, (path, answer.text)
    assert [o["name"] for o in supervisor.get("/orgs").json()] == [org.name]
    answer = supervisor.post(f"/orgs/{org.name}/presence/101/logout")
    assert answer.json() == {"logged_out": True}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR])
def test_a_token_scoped_to_another_organisation_is_403(
    client_for: ClientFactory, shared_org_factory: Callable[..., OrgFixture], role: Role
) -> None:
    mine, theirs = shared_org_factory(), shared_org_factory()
    client = client_for(role, mine.name)
    for path in READS:
        answer = client.get(path.format(org=theirs.name))
        assert answer.status_code == 403, path
        assert answer.json() == {
            "detail": "this token is scoped to another organisation",
            "code": "forbidden",
        }
    assert client.post(f"/orgs/{theirs.name}/presence/101/logout").status_code == 403
    # The same answer whether or not the organisation exists: nothing leaks.
    assert client.get("/orgs/no-such-org/agents").status_code == 403


def test_an_admin_scoped_to_an_organisation_manages_it_but_creates_none(
    client_for: ClientFactory, shared_org_factory: Callable[..., OrgFixture]
) -> None:
    mine, theirs = shared_org_factory(), shared_org_factory()
    scoped = client_for(Role.ADMIN, mine.name)
    assert scoped.post(f"/orgs/{mine.name}/agents", json={"user_id": "900"}).status_code == 201
    assert scoped.post(f"/orgs/{theirs.name}/agents", json={"user_id": "900"}).status_code == 403
    answer = scoped.post("/orgs", json={"name": f"{mine.name}-new"})
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "this needs an admin token for all organisations",
        "code": "forbidden",
    }
    assert [o["name"] for o in scoped.get("/orgs").json()] == [mine.name]
