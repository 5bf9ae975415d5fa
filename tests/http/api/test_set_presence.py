"""A supervisor puts an agent in any status over the native API (PUT …/presence/{user_id}):
the presence's one JSON shape back, source ``supervisor`` in the history with the reason
and the token's label, and a stable code for each refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service.statuses import update_status
from agentstatus.service.tokens import Role, create_token
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import set_status
from tests.support.changes import deactivate
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

TRAINING = 11


@pytest.fixture
def supervisor(
    shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> Iterator[httpx.Client]:
    """A supervisor of the organisation, with a token labelled as a person would."""
    token = create_token(shared_engine, Role.SUPERVISOR, org.name, label="Dana (floor lead)")
    with httpx.Client(
        base_url=f"{shared_server.base_url}/api/v1",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=30,
    ) as client:
        yield client


def _put(client: httpx.Client, org: OrgFixture, user_id: str, **body: object) -> httpx.Response:
    return client.put(f"/orgs/{org.name}/presence/{user_id}", json=body)


def _history(client: httpx.Client, org: OrgFixture) -> list[dict[str, object]]:
    events: list[dict[str, object]] = client.get(f"/orgs/{org.name}/history").json()["events"]
    return events


def test_a_supervisor_sets_training_with_a_reason(
    supervisor: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    answer = _put(supervisor, org, "101", status=TRAINING, reason="  Product update, room 2 ")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    listed = {
        p["user_id"]: p for p in supervisor.get(f"/orgs/{org.name}/presence").json()["agents"]
    }
    assert body == listed["101"]  # the one shape of presence
    assert (body["extension"], body["status"], body["status_name"]) == (
        "sip1",
        TRAINING,
        "Training",
    )
    last = _history(supervisor, org)[-1]
    assert (last["source"], last["reason"], last["actor"]) == (
        "supervisor",
        "Product update, room 2",
        "Dana (floor lead)",
    )
    assert (last["previous"], last["new"]) == (
        {"extension": "sip1", "status": 1},
        {"extension": "sip1", "status": TRAINING},
    )


def test_a_logged_out_agent_is_put_at_the_extension_named_without_a_reason(
    supervisor: httpx.Client, org: OrgFixture
) -> None:
    answer = _put(supervisor, org, "102", status=1, extension="sip2", reason="")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["extension"], answer.json()["status"]) == ("sip2", 1)
    last = _history(supervisor, org)[-1]
    assert last["source"] == "supervisor"
    assert "reason" not in last  # an empty reason is none
    assert last["actor"] == "Dana (floor lead)"
    again = _put(supervisor, org, "102", status=1)  # where it already is: nothing recorded
    assert again.status_code == 200
    assert len(_history(supervisor, org)) == 1


def test_a_logout_is_one_of_the_statuses(
    supervisor: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "103", "sip3", 3)
    answer = _put(supervisor, org, "103", status=2, reason="End of shift")
    assert (answer.json()["extension"], answer.json()["status"]) == (None, 2)
    last = _history(supervisor, org)[-1]
    assert (last["new"], last["source"], last["reason"]) == (
        {"extension": None, "status": 2},
        "supervisor",
        "End of shift",
    )


def test_an_unlabelled_token_is_recorded_by_its_id(
    client_for: ClientFactory, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    admin = client_for(Role.ADMIN)
    assert _put(admin, org, "101", status=3).status_code == 200
    assert str(_history(admin, org)[-1]["actor"]).startswith("token:")


@pytest.mark.parametrize(
    ("user_id", "body", "status", "code"),
    [
        ("999", {"status": 1, "extension": "sip1"}, 404, "agent_not_found"),
        ("101", {"status": 77, "extension": "sip1"}, 422, "status_not_available"),
        ("101", {"status": 1, "extension": "sip9"}, 422, "extension_not_found"),
        ("101", {"status": 1}, 422, "extension_required"),
        ("101", {"status": 1, "extension": "sip1", "reason": "x" * 201}, 422, "invalid_reason"),
        ("101", {"status": 1, "extension": "sip1", "reason": "a\x07b"}, 422, "invalid_reason"),
        ("101", {"status": 0, "extension": "sip1"}, 422, "validation_error"),
        ("101", {"status": 1, "extension": "sip1", "mood": "x"}, 422, "validation_error"),
    ],
)
def test_each_refusal_has_its_code(
    supervisor: httpx.Client,
    org: OrgFixture,
    user_id: str,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    answer = supervisor.put(f"/orgs/{org.name}/presence/{user_id}", json=body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert _history(supervisor, org) == []


def test_a_reason_of_200_characters_is_taken(supervisor: httpx.Client, org: OrgFixture) -> None:
    reason = "é" * 200
    assert (
        _put(supervisor, org, "101", status=1, extension="sip1", reason=reason).status_code == 200
    )
    assert _history(supervisor, org)[-1]["reason"] == reason


def test_a_disabled_status_is_not_available(
    supervisor: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    update_status(shared_engine, org.name, TRAINING, enabled=False)
    answer = _put(supervisor, org, "101", status=TRAINING, extension="sip1")
    assert (answer.status_code, answer.json()["code"]) == (422, "status_not_available")


def test_an_extension_held_by_another_agent_is_in_use(
    supervisor: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    answer = _put(supervisor, org, "102", status=1, extension="sip1")
    assert (answer.status_code, answer.json()["code"]) == (409, "extension_in_use")
    assert answer.json()["detail"] == "extension 'sip1' is held by another agent"


def test_a_deactivated_agent_is_not_found(
    supervisor: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    deactivate(shared_engine, org.name, "101")
    answer = _put(supervisor, org, "101", status=1, extension="sip1")
    assert (answer.status_code, answer.json()["code"]) == (404, "agent_not_found")


def test_another_organisations_token_is_forbidden(
    client_for: ClientFactory, shared_org_factory: Callable[..., OrgFixture], org: OrgFixture
) -> None:
    other = client_for(Role.SUPERVISOR, shared_org_factory().name)
    answer = _put(other, org, "101", status=1, extension="sip1")
    assert answer.status_code == 403


def test_the_openapi_document_lists_the_codes(shared_server: ServerProcess) -> None:
    document = httpx.get(f"{shared_server.base_url}/openapi.json").json()
    operation = document["paths"]["/api/v1/orgs/{org}/presence/{user_id}"]["put"]
    described = " ".join(r["description"] for r in operation["responses"].values())
    for code in (
        "agent_not_found",
        "status_not_available",
        "extension_not_found",
        "extension_required",
        "extension_in_use",
        "invalid_reason",
    ):
        assert f"`{code}`" in described
    assert set(operation["responses"]) >= {"200", "404", "409", "422", "503"}
