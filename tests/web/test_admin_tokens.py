"""Administration of API tokens over HTTP against a real server: a new token shown once
and working against the API, revoking it, errors beside their fields, the scopes."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.service import tokens
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import elements, field_error
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of


def labels(engine: Engine) -> set[str]:
    return {t.label for t in tokens.list_tokens(engine)}


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/tokens").status_code == 403
        posted = client.post(
            f"/o/{org.name}/admin/tokens",
            data={"label": "sup", "role": "admin", "scope": org.name},
            headers=SAME_ORIGIN,
        )
    assert posted.status_code == 403
    assert "sup" not in labels(shared_engine)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        posted = client.post(
            f"/o/{org.name}/admin/tokens",
            data={"label": "forged", "role": "admin", "scope": org.name},
            headers={"origin": "http://evil.example"},
        )
    assert posted.status_code == 403
    assert "forged" not in labels(shared_engine)


def test_a_new_token_is_shown_once_works_and_can_be_revoked(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    api = f"{shared_server.base_url}/api/v1/orgs/{org.name}/agents"
    with signed_in(shared_server.base_url, admin) as client:
        made = client.post(
            f"/o/{org.name}/admin/tokens",
            data={"label": "CRM", "role": "supervisor", "scope": org.name},
            headers=SAME_ORIGIN,
        )
        token = elements(made.text)["secret-value"].text.strip()
        listed = client.get(f"/o/{org.name}/admin/tokens")
        assert httpx.get(api, headers={"authorization": f"Bearer {token}"}).status_code == 200
        row = next(t for t in tokens.list_tokens(shared_engine) if t.label == "CRM")
        revoked = client.post(
            f"/o/{org.name}/admin/tokens/revoke",
            data={"token_id": str(row.id), "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        shown = client.get(revoked.headers["location"])
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    assert token not in listed.text
    assert "CRM" in listed.text
    assert "The token was revoked." in text_of(shown.text)
    assert httpx.get(api, headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_errors_and_scopes(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    other = make_org(shared_engine, agent_count=0, extension_count=0)
    theirs = tokens.create_token(shared_engine, Role.ADMIN, other.name, "theirs")
    url = f"/o/{org.name}/admin/tokens"
    with signed_in(shared_server.base_url, admin) as client:
        bad = client.post(
            url, data={"label": "l" * 200, "role": "root", "scope": ""}, headers=SAME_ORIGIN
        )
        listed = client.get(url)
        revoke = client.post(
            f"{url}/revoke", data={"token_id": str(theirs.info.id)}, headers=SAME_ORIGIN
        )
        nonsense = client.post(f"{url}/revoke", data={"token_id": "x"}, headers=SAME_ORIGIN)
    assert bad.status_code == 422
    assert field_error(bad.text, "add-label") == (
        "A label is at most 128 characters, without control characters."
    )
    assert field_error(bad.text, "add-role") == "Choose a role."
    assert field_error(bad.text, "add-scope") == "Choose an organisation you manage."
    assert "theirs" not in text_of(listed.text)
    assert revoke.status_code == 404
    assert "There is no such token." in text_of(revoke.text)
    assert nonsense.status_code == 404
    assert "theirs" in labels(shared_engine)  # not revoked
