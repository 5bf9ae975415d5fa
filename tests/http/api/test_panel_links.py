"""Panel links and embed origins over the native API (admin tokens): making a link for one
agent, listing and revoking links, and the origins that may embed the panel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

URL = re.compile(r"http://127\.0\.0\.1:\d+/panel/(?P<org>[\w-]+)#(?P<token>asp_[\w-]{43})")


def _state(server: ServerProcess, url: str) -> httpx.Response:
    found = URL.fullmatch(url)
    assert found, url
    return httpx.get(
        f"{server.base_url}/panel/{found['org']}/api/state",
        headers={"authorization": f"Bearer {found['token']}"},
        timeout=10,
    )


def test_a_link_is_made_for_one_agent_and_works(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    before = datetime.now(UTC)
    answer = admin.post(f"/orgs/{org.name}/agents/101/panel-links", json={})
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"id", "user_id", "extension", "created_at", "expires_at", "url"}
    assert body["user_id"] == "101"
    assert body["extension"] is None
    assert URL.fullmatch(body["url"]), body["url"]
    assert org.code not in body["url"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - before < timedelta(hours=12, minutes=1)
    state = _state(shared_server, body["url"])
    assert state.status_code == 200
    assert state.json()["agent"] == {"user_id": "101", "name": "Agent 1"}


def test_a_link_may_fix_the_extension_and_its_lifetime(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    answer = admin.post(
        f"/orgs/{org.name}/agents/102/panel-links", json={"extension": "sip2", "ttl_seconds": 600}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    lasts = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert lasts == timedelta(seconds=600)
    assert _state(shared_server, body["url"]).json()["fixed_extension"] == "sip2"


def test_without_a_body_the_defaults_apply(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents/101/panel-links")
    assert answer.status_code == 201, answer.text


def test_bad_requests_are_refused_in_words(admin: httpx.Client, org: OrgFixture) -> None:
    base = f"/orgs/{org.name}/agents"
    for ttl in (59, 7 * 86400 + 1, "soon"):
        answer = admin.post(f"{base}/101/panel-links", json={"ttl_seconds": ttl})
        assert answer.status_code == 422, (ttl, answer.text)
    assert admin.post(f"{base}/101/panel-links", json={"extension": "nope"}).status_code == 404
    assert admin.post(f"{base}/999/panel-links", json={}).status_code == 404
    assert admin.post(f"{base}/101/panel-links", json={"user": "102"}).status_code == 422
    assert admin.post("/orgs/no-such-org/agents/101/panel-links", json={}).status_code == 404
    admin.patch(f"{base}/103", json={"active": False})
    refused = admin.post(f"{base}/103/panel-links", json={})
    assert refused.status_code == 422
    assert "deactivated" in refused.json()["detail"]


def test_only_admins_of_the_organisation_make_links(
    client_for: ClientFactory, org: OrgFixture, shared_org_factory: Callable[[], OrgFixture]
) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.post(f"/orgs/{org.name}/agents/101/panel-links").status_code == 403
    other_admin = client_for(Role.ADMIN, shared_org_factory().name)
    assert other_admin.post(f"/orgs/{org.name}/agents/101/panel-links").status_code == 403
    anonymous = httpx.post(
        str(supervisor.base_url).rstrip("/") + f"/orgs/{org.name}/agents/101/panel-links"
    )
    assert anonymous.status_code == 401


def test_links_are_listed_without_tokens_and_revoked(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    base = f"/orgs/{org.name}/agents"
    first = admin.post(f"{base}/101/panel-links").json()
    second = admin.post(f"{base}/101/panel-links", json={"extension": "sip1"}).json()
    other = admin.post(f"{base}/102/panel-links").json()
    listed = admin.get(f"{base}/101/panel-links").json()
    assert [link["id"] for link in listed] == [first["id"], second["id"]]
    assert all("url" not in link and "token" not in link for link in listed)

    assert admin.delete(f"/orgs/{org.name}/panel-links/{first['id']}").status_code == 204
    assert _state(shared_server, first["url"]).json()["reason"] == "revoked"
    assert _state(shared_server, second["url"]).status_code == 200
    assert admin.delete(f"{base}/101/panel-links").status_code == 204
    assert _state(shared_server, second["url"]).json()["reason"] == "revoked"
    assert admin.get(f"{base}/101/panel-links").json() == []
    assert _state(shared_server, other["url"]).status_code == 200
    assert admin.delete(f"/orgs/{org.name}/panel-links/999999").status_code == 404


def test_deactivating_the_agent_revokes_its_links_for_good(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    link = admin.post(f"/orgs/{org.name}/agents/101/panel-links").json()
    assert admin.patch(f"/orgs/{org.name}/agents/101", json={"active": False}).status_code == 200
    assert _state(shared_server, link["url"]).json()["reason"] == "revoked"
    assert admin.patch(f"/orgs/{org.name}/agents/101", json={"active": True}).status_code == 200
    assert _state(shared_server, link["url"]).json()["reason"] == "revoked"


def test_embed_origins_are_kept_as_browsers_send_them(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/embed-origins"
    assert admin.get(path).json() == {"origins": []}
    answer = admin.put(
        path, json={"origins": ["https://CRM.example.com:443/", "http://localhost:8080"]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"origins": ["http://localhost:8080", "https://crm.example.com"]}
    assert admin.get(path).json() == answer.json()
    for bad in (
        "crm.example.com",
        "https://crm.example.com/app",
        "ftp://x.example",
        "*",
        "https://user:pw@crm.example.com",
        "https://crm.example.com:99999",
        "null",
    ):
        refused = admin.put(path, json={"origins": [bad]})
        assert refused.status_code == 422, bad
        assert "origin" in refused.json()["detail"]
    assert admin.put(path, json={"origins": None}).json() == {"origins": []}


def test_embed_origins_are_for_admins(client_for: ClientFactory, org: OrgFixture) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.get(f"/orgs/{org.name}/embed-origins").status_code == 403
    assert (
        supervisor.put(f"/orgs/{org.name}/embed-origins", json={"origins": []}).status_code == 403
    )
