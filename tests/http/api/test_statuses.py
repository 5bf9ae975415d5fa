"""The status catalogue over the native API: list, add, change."""

from __future__ import annotations

import httpx
import pytest

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.http.api.helpers import statuses_list
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


def test_listing_the_default_catalogue(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.get(f"/orgs/{org.name}/statuses")
    assert answer.status_code == 200
    listed = answer.json()
    assert [s["id"] for s in listed] == [1, 2, 3, 5, 7, 9, 11, 12, 13]
    assert listed[0] == {
        "id": 1,
        "name": "Login",
        "color": "#2ecc71",
        "available": True,
        "enabled": True,
        "limit_seconds": None,
        "limit_action": None,
    }


def test_adding_a_status_offers_it_to_the_crm(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    answer = admin.post(f"/orgs/{org.name}/statuses", json={"id": 40, "name": "Coaching"})
    assert answer.status_code == 201
    assert answer.json() == {
        "id": 40,
        "name": "Coaching",
        "color": "#7f8c8d",
        "available": False,
        "enabled": True,
        "limit_seconds": None,
        "limit_action": None,
    }
    body = {"id": 41, "name": "Outbound", "color": "#AABBCC", "available": True}
    assert admin.post(f"/orgs/{org.name}/statuses", json=body).json()["color"] == "#aabbcc"
    offered = [s["ID"] for s in statuses_list(shared_server, org.code).json()["Statuses"]]
    assert offered[-2:] == [40, 41]


def test_adding_an_existing_status_is_409(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/statuses", json={"id": 3, "name": "Lunch"})
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": f"status 3 already exists in {org.name!r}",
        "code": "conflict",
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"id": 0, "name": "Zero"}, "status id must be between 1 and"),
        ({"id": 2**31, "name": "Big"}, "status id must be between 1 and"),
        ({"id": 50, "name": "  "}, "a status needs a name"),
        ({"id": 50, "name": "Red", "color": "red"}, "invalid colour"),
    ],
)
def test_an_invalid_status_is_422(
    admin: httpx.Client, org: OrgFixture, body: dict[str, object], fragment: str
) -> None:
    answer = admin.post(f"/orgs/{org.name}/statuses", json=body)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


def test_changing_a_status(admin: httpx.Client, org: OrgFixture) -> None:
    body = {"name": "Long lunch", "color": "#000000", "available": True}
    answer = admin.patch(f"/orgs/{org.name}/statuses/3", json=body)
    assert answer.status_code == 200
    assert answer.json() == {
        "id": 3,
        "name": "Long lunch",
        "color": "#000000",
        "available": True,
        "enabled": True,
        "limit_seconds": None,
        "limit_action": None,
    }
    assert admin.get(f"/orgs/{org.name}/statuses").json()[2]["name"] == "Long lunch"


def test_a_disabled_status_is_refused_by_the_status_api(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    answer = admin.patch(f"/orgs/{org.name}/statuses/5", json={"enabled": False})
    assert answer.json()["enabled"] is False
    refused = httpx.get(
        f"{shared_server.base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": org.code, "UserId": "101", "ExtensionUser": "sip1", "Status": 5},
    )
    assert refused.json()["StatusErroMessage"] == "Status not support"
    assert admin.patch(f"/orgs/{org.name}/statuses/5", json={"enabled": True}).status_code == 200


def test_a_built_in_status_cannot_be_disabled(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.patch(f"/orgs/{org.name}/statuses/2", json={"enabled": False})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "status 2 is built in and cannot be disabled",
        "code": "validation_error",
    }


def test_changing_an_unknown_status_is_404(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.patch(f"/orgs/{org.name}/statuses/99", json={"name": "Ghost"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no status 99 in this organisation", "code": "not_found"}


@pytest.mark.parametrize("status_id", ["0", "2147483648", "99999999999999999999999", "three"])
def test_a_status_id_out_of_range_in_the_path_is_422(
    admin: httpx.Client, org: OrgFixture, status_id: str
) -> None:
    answer = admin.patch(f"/orgs/{org.name}/statuses/{status_id}", json={"name": "X"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "status_id"]


def test_a_limit_is_set_and_cleared(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/statuses/3/limit"
    answer = admin.put(path, json={"seconds": 900, "then": "login"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["limit_seconds"], answer.json()["limit_action"]) == (900, "login")
    assert admin.get(f"/orgs/{org.name}/statuses").json()[2]["limit_seconds"] == 900
    default = admin.put(path, json={"seconds": 60}).json()
    assert default["limit_action"] == "warn"
    cleared = admin.delete(path)
    assert cleared.status_code == 200
    assert (cleared.json()["limit_seconds"], cleared.json()["limit_action"]) == (None, None)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (2, {"seconds": 60}, 422),  # Logout: the end of the shift is for that
        (3, {"seconds": 0}, 422),
        (3, {"seconds": 7 * 86400 + 1}, 422),
        (3, {"seconds": 60, "then": "lunch"}, 422),
        (3, {"seconds": "15m"}, 422),
        (3, {}, 422),
        (99, {"seconds": 60}, 404),
    ],
)
def test_a_bad_limit_is_refused(
    admin: httpx.Client, org: OrgFixture, status: int, body: dict[str, object], code: int
) -> None:
    assert admin.put(f"/orgs/{org.name}/statuses/{status}/limit", json=body).status_code == code


def test_limits_are_for_admins(client_for: ClientFactory, org: OrgFixture) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert (
        supervisor.put(f"/orgs/{org.name}/statuses/3/limit", json={"seconds": 60}).status_code
        == 403
    )
