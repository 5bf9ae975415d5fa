"""Administration of webhooks over HTTP against a real server: an endpoint added (its
secret shown once), disabled and enabled, a test queued and listed among the deliveries,
removed; errors beside their fields; the roles."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.domain.event_types import TEST_EVENT
from agentstatus.service import webhooks
from tests.support.factories import OrgFixture
from tests.support.html_forms import elements, field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of

URL = "https://crm.example.com/hooks/agentstatus"


def urls(engine: Engine, org: str) -> dict[str, webhooks.Endpoint]:
    return {e.url: e for e in webhooks.list_endpoints(engine, org)}


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/webhooks").status_code == 403
        posted = client.post(
            f"/o/{org.name}/admin/webhooks", data={"url": URL + "/sup"}, headers=SAME_ORIGIN
        )
    assert posted.status_code == 403
    assert URL + "/sup" not in urls(shared_engine, org.name)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        posted = client.post(
            f"/o/{org.name}/admin/webhooks",
            data={"url": URL + "/forged"},
            headers={"sec-fetch-site": "cross-site"},
        )
    assert posted.status_code == 403
    assert URL + "/forged" not in urls(shared_engine, org.name)


def test_an_endpoint_from_adding_to_removing(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    base = f"/o/{org.name}/admin/webhooks"
    with signed_in(shared_server.base_url, admin) as client:
        added = client.post(
            base,
            data={"url": URL, "events": ["agent.login", "agent.logout"], "description": "CRM"},
            headers=SAME_ORIGIN,
        )
        secret = elements(added.text)["secret-value"].text.strip()
        endpoint = urls(shared_engine, org.name)[URL]
        row = {"endpoint_id": str(endpoint.id)}
        disabled = client.post(
            f"{base}/change", data={**row, "action": "disable"}, headers=SAME_ORIGIN
        )
        assert not urls(shared_engine, org.name)[URL].enabled
        enabled = client.post(
            f"{base}/change", data={**row, "action": "enable"}, headers=SAME_ORIGIN
        )
        tested = client.post(f"{base}/change", data={**row, "action": "test"}, headers=SAME_ORIGIN)
        deliveries = client.get(f"{base}?endpoint={endpoint.id}")
        removed = client.post(
            f"{base}/change",
            data={**row, "action": "remove", "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        gone = client.post(f"{base}/change", data={**row, "action": "test"}, headers=SAME_ORIGIN)
    assert added.status_code == 200
    assert added.headers["cache-control"] == "no-store"
    assert secret.startswith("whsec_")
    assert endpoint.events == ["agent.login", "agent.logout"]
    assert endpoint.description == "CRM"
    assert disabled.headers["location"].endswith("?done=disabled")
    assert enabled.headers["location"].endswith("?done=enabled")
    assert urls(shared_engine, org.name) == {}
    assert tested.headers["location"].endswith("?done=tested")
    listed = elements(deliveries.text)
    assert secret not in deliveries.text
    assert TEST_EVENT in text_of(deliveries.text)
    assert any(k.startswith("deliveries") for k in listed)
    assert 'data-delivery-id="' in deliveries.text
    assert removed.headers["location"].endswith("?done=removed")
    assert gone.status_code == 404
    assert "There is no such endpoint." in text_of(gone.text)


def test_errors_are_shown_beside_their_fields(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    base = f"/o/{org.name}/admin/webhooks"
    with signed_in(shared_server.base_url, admin) as client:
        bad_url = client.post(
            base,
            data={"url": "ftp://files.example.com/", "events": "agent.status"},
            headers=SAME_ORIGIN,
        )
        bad_rest = client.post(
            base,
            data={"url": URL + "/x", "events": "agent.sneeze", "description": "d\x00"},
            headers=SAME_ORIGIN,
        )
    assert bad_url.status_code == 422
    error = field_error(bad_url.text, "add-url")
    assert error is not None
    assert error.startswith("Enter an http:// or https:// URL the server may send to.")
    assert value_of(bad_url.text, "add-url") == "ftp://files.example.com/"
    assert 'value="agent.status" checked' in bad_url.text  # the ticked box stays ticked
    assert bad_rest.status_code == 422
    assert field_error(bad_rest.text, "add-events") == "Choose among the events listed."
    assert field_error(bad_rest.text, "add-description") == (
        "A description is at most 256 characters, without control characters."
    )
    assert urls(shared_engine, org.name) == {}
