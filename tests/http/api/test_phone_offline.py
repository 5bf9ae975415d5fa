"""The phone-offline policy over the native API: set, read, turned off, refused."""

from __future__ import annotations

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture

OFF = {"enabled": False, "seconds": None, "status": None}


def test_the_policy_is_set_read_and_turned_off(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/phone-offline"
    assert admin.get(path).json() == OFF
    answer = admin.put(path, json={"seconds": 60, "status": 9})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"enabled": True, "seconds": 60, "status": 9}
    assert admin.get(path).json() == answer.json()
    assert admin.put(path, json={"seconds": 30}).json()["status"] == 9  # Other by default
    assert admin.delete(path).json() == OFF
    assert admin.get(path).json() == OFF


def test_a_status_that_takes_calls_or_a_bad_number_is_422(
    admin: httpx.Client, org: OrgFixture
) -> None:
    path = f"/orgs/{org.name}/phone-offline"
    for bad in ({"seconds": 60, "status": 1}, {"seconds": 0}, {"seconds": 86_401}, {}):
        answer = admin.put(path, json=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["code"] == "validation_error"
    missing = admin.put(path, json={"seconds": 60, "status": 999})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert admin.get(path).json() == OFF


def test_a_supervisor_reads_but_does_not_set(client_for: ClientFactory, org: OrgFixture) -> None:
    supervisor = client_for(Role.SUPERVISOR)
    path = f"/orgs/{org.name}/phone-offline"
    assert supervisor.get(path).status_code == 200
    assert supervisor.put(path, json={"seconds": 60}).status_code == 403
