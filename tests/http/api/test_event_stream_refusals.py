"""The event stream's refusals, answered by its one implementation (the raw endpoint,
``http/events_endpoint.py``) from the API's error table, in the API's shape."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture


def _refused(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, object] = answer.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def test_tokens_are_checked_as_on_every_other_route(
    anonymous: httpx.Client,
    client_for: ClientFactory,
    org: OrgFixture,
    shared_org_factory: Callable[..., OrgFixture],
) -> None:
    path = f"/orgs/{org.name}/events"
    for answer in (anonymous.get(path), anonymous.get("/orgs/x/agents")):
        _refused(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer nope"}
    for answer in (anonymous.get(path, headers=bad), anonymous.get("/orgs", headers=bad)):
        body = _refused(answer, 401, "unauthorized")
        assert body["detail"] == "the bearer token is unknown or revoked"
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    elsewhere = client_for(Role.SUPERVISOR, shared_org_factory().name)
    for answer in (elsewhere.get(path), elsewhere.get(f"/orgs/{org.name}/agents")):
        body = _refused(answer, 403, "forbidden")
        assert body["detail"] == "this token is scoped to another organisation"


def test_parameters_and_names_are_refused_before_the_stream_starts(
    admin: httpx.Client, org: OrgFixture
) -> None:
    path = f"/orgs/{org.name}/events"
    _refused(admin.get("/orgs/no-such-org/events"), 404, "organisation_not_found")
    _refused(admin.get(path, params={"type": "agent.nothing"}), 422, "validation_error")
    _refused(admin.get(path, params={"user_id": "nobody"}), 422, "validation_error")
    _refused(admin.get(path, headers={"Last-Event-ID": "-1"}), 422, "validation_error")
    _refused(admin.get(path, params={"after": "²"}), 422, "validation_error")
    wrong = admin.post(path)
    _refused(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "GET"
    # A name the path pattern refuses reaches the documented route: a field error.
    body = _refused(admin.get("/orgs/not.a.name/events"), 422, "validation_error")
    assert isinstance(body["detail"], list)
