"""Wall links over the native API (admin tokens): making one for the organisation, the
URL with the token in its fragment only, listing without tokens, revoking one or all, and
who did each (the token's label)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from agentstatus.service import wall_links
from agentstatus.service.links import LinkRefusal
from agentstatus.service.tokens import Role, create_token
from agentstatus.service.wall_links import WallGrant
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

URL = re.compile(r"http://127\.0\.0\.1:\d+/o/(?P<org>[\w-]+)/wall#token=(?P<token>asw_[\w-]{43})")


def _grant(engine: Engine, url: str) -> WallGrant | LinkRefusal:
    found = URL.fullmatch(url)
    assert found, url
    return wall_links.verify_link(engine, found["org"], found["token"])


def test_a_link_is_made_for_the_organisation_and_works(
    admin: httpx.Client, org: OrgFixture, shared_engine: Engine
) -> None:
    before = datetime.now(UTC)
    answer = admin.post(f"/orgs/{org.name}/wall-links", json={"label": "TV by the door"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {
        "id",
        "label",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "url",
    }
    assert body["label"] == "TV by the door"
    assert (body["revoked_at"], body["revoked_by"]) == (None, None)
    assert body["created_by"].startswith("token:")
    assert URL.fullmatch(body["url"]), body["url"]
    assert org.code not in body["url"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29, hours=23) < expires - before < timedelta(days=30, minutes=1)
    grant = _grant(shared_engine, body["url"])
    assert isinstance(grant, WallGrant)
    assert (grant.link_id, grant.org) == (body["id"], org.name)


def test_the_lifetime_and_the_defaults(admin: httpx.Client, org: OrgFixture) -> None:
    body = admin.post(f"/orgs/{org.name}/wall-links", json={"ttl_seconds": 600}).json()
    lasts = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert lasts == timedelta(seconds=600)
    bare = admin.post(f"/orgs/{org.name}/wall-links")
    assert bare.status_code == 201, bare.text
    assert bare.json()["label"] == ""


def test_bad_requests_are_refused_in_words(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/wall-links"
    for body in (
        {"ttl_seconds": 59},
        {"ttl_seconds": 365 * 86400 + 1},
        {"ttl_seconds": "soon"},
        {"label": "x" * 129},
        {"label": "bad\u0007label"},
        {"org": "other"},
    ):
        answer = admin.post(path, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["code"] in ("validation_error", "invalid_input"), answer.text
    missing = admin.post("/orgs/no-such-org/wall-links", json={})
    assert missing.status_code == 404
    assert missing.json()["code"] == "organisation_not_found"
    for bad in ("999999", "0", "x", str(2**63)):
        refused = admin.delete(f"{path}/{bad}")
        assert refused.status_code in (404, 422), (bad, refused.text)
        assert refused.json()["code"] in ("not_found", "validation_error")
    assert admin.get(path, params={"ended": "perhaps"}).status_code == 422


def test_only_admins_of_the_organisation_manage_links(
    client_for: ClientFactory,
    org: OrgFixture,
    shared_org_factory: Callable[[], OrgFixture],
    shared_server: ServerProcess,
) -> None:
    path = f"/orgs/{org.name}/wall-links"
    supervisor = client_for(Role.SUPERVISOR, org.name)
    other_admin = client_for(Role.ADMIN, shared_org_factory().name)
    for client in (supervisor, other_admin):
        assert client.post(path).status_code == 403
        assert client.get(path).status_code == 403
        assert client.delete(path).status_code == 403
        assert client.delete(f"{path}/1").status_code == 403
    anonymous = httpx.post(f"{shared_server.base_url}/api/v1{path}")
    assert anonymous.status_code == 401


def test_links_are_listed_without_tokens_and_revoked(
    client_for: ClientFactory,
    org: OrgFixture,
    shared_org_factory: Callable[[], OrgFixture],
    shared_engine: Engine,
) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name, "the CRM")
    admin = client_for(Role.ADMIN)
    admin.headers["authorization"] = f"Bearer {made.token}"
    path = f"/orgs/{org.name}/wall-links"
    first = admin.post(path, json={"label": "one"}).json()
    second = admin.post(path).json()
    third = admin.post(path).json()
    other = shared_org_factory()
    theirs = client_for(Role.ADMIN).post(f"/orgs/{other.name}/wall-links").json()
    listed = admin.get(path).json()
    assert [k["id"] for k in listed] == [first["id"], second["id"], third["id"]]
    assert all("url" not in k and "token" not in k for k in listed)
    assert "asw_" not in admin.get(path).text
    assert listed[0]["created_by"] == "the CRM"

    assert admin.delete(f"{path}/{first['id']}").status_code == 204
    assert admin.delete(f"{path}/{first['id']}").status_code == 204  # again: no change
    assert _grant(shared_engine, first["url"]) is LinkRefusal.REVOKED
    assert isinstance(_grant(shared_engine, second["url"]), WallGrant)
    assert admin.delete(f"/orgs/{org.name}/wall-links/{theirs['id']}").status_code == 404
    assert admin.delete(path).status_code == 204
    assert _grant(shared_engine, second["url"]) is LinkRefusal.REVOKED
    assert _grant(shared_engine, third["url"]) is LinkRefusal.REVOKED
    assert isinstance(_grant(shared_engine, theirs["url"]), WallGrant)
    assert admin.get(path).json() == []
    ended = admin.get(path, params={"ended": "true"}).json()
    assert [k["id"] for k in ended] == [first["id"], second["id"], third["id"]]
    assert all(k["revoked_by"] == "the CRM" and k["revoked_at"] for k in ended)
