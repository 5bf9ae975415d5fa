"""``/orgs/{org}/missed-calls``: the missed-calls rule set, read and turned off; a status
that could not act is refused with a reason, through the one error table."""

from __future__ import annotations

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture


def test_the_rule_is_set_read_and_turned_off(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/missed-calls"
    assert admin.get(path).json() == {"count": None, "status": None}  # off by default
    answer = admin.put(path, json={"count": 2})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 2, "status": 9}  # Other unless chosen
    assert admin.put(path, json={"count": 3, "status": 11}).json() == {"count": 3, "status": 11}
    assert admin.get(path).json() == {"count": 3, "status": 11}
    assert admin.delete(path).json() == {"count": None, "status": None}
    assert admin.get(path).json() == {"count": None, "status": None}


def test_a_status_that_cannot_act_is_refused_clearly(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/missed-calls"
    disabled = admin.patch(f"/orgs/{org.name}/statuses/5", json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    refused = {
        1: "takes calls",
        2: "Logout",
        5: "disabled",
        42: "no status 42",
    }
    for status, why in refused.items():
        answer = admin.put(path, json={"count": 2, "status": status})
        assert answer.status_code == 422, (status, answer.text)
        body = answer.json()
        assert body["code"] == "validation_error"
        assert why in body["detail"], (status, body)
    for bad in ({"count": 0}, {"count": 101}, {"count": "two"}, {}, {"count": 2, "x": 1}):
        answer = admin.put(path, json=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["code"] == "validation_error"
    assert admin.get(path).json() == {"count": None, "status": None}  # nothing was set
    assert admin.put("/orgs/no-such-org/missed-calls", json={"count": 2}).status_code == 404


def test_a_supervisor_reads_the_rule_and_may_not_change_it(
    client_for: ClientFactory, org: OrgFixture
) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    path = f"/orgs/{org.name}/missed-calls"
    assert supervisor.get(path).json() == {"count": None, "status": None}
    assert supervisor.put(path, json={"count": 2}).status_code == 403
    assert supervisor.delete(path).status_code == 403
