"""The webhook endpoints of /api/v1 on each engine, with the server's default settings
(no AGENTSTATUS_SECRET_KEY): SQLite keeps a key file beside the database, PostgreSQL
refuses clearly until the key is set."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture


def test_adding_an_endpoint_without_a_key(
    admin: httpx.Client, org: OrgFixture, shared_engine: Engine
) -> None:
    answer = admin.post(f"/orgs/{org.name}/webhooks", json={"url": "https://crm.example/hook"})
    if shared_engine.dialect.name == "sqlite":
        assert answer.status_code == 201
        body = answer.json()
        assert body["url"] == "https://crm.example/hook"
        assert len(body["secret"]) >= 32
        # Generated in the Standard Webhooks form: one secret for both signatures.
        assert body["secret"].startswith("whsec_")
        assert body["standard_webhooks_secret"] == body["secret"]
        listed = admin.get(f"/orgs/{org.name}/webhooks").json()
        assert [e["url"] for e in listed] == ["https://crm.example/hook"]
        assert "secret" not in listed[0]
        own = admin.post(
            f"/orgs/{org.name}/webhooks",
            json={"url": "https://crm.example/own", "secret": "a secret of our own"},
        ).json()
        assert own["secret"] == "a secret of our own"
        assert own["standard_webhooks_secret"] == "whsec_YSBzZWNyZXQgb2Ygb3VyIG93bg=="
        assert body["cloudevents"] is False
        cloud = admin.post(
            f"/orgs/{org.name}/webhooks",
            json={"url": "https://crm.example/ce", "cloudevents": True},
        ).json()
        assert cloud["cloudevents"] is True
        listed = admin.get(f"/orgs/{org.name}/webhooks").json()
        assert [e["cloudevents"] for e in listed] == [False, False, True]
    else:
        assert answer.status_code == 503
        assert "AGENTSTATUS_SECRET_KEY" in answer.json()["detail"]
        assert admin.get(f"/orgs/{org.name}/webhooks").json() == []


def test_a_supervisor_cannot_add_an_endpoint(client_for: ClientFactory, org: OrgFixture) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    answer = supervisor.post(f"/orgs/{org.name}/webhooks", json={"url": "https://x.example/"})
    assert answer.status_code == 403
