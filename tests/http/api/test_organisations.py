"""Organisations over the native API: create, list, rotate the Code, allow-list."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest

from agentstatus.http.api.custom_codes import REFUSED
from tests.http.api.helpers import code_works, statuses_list
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess


def fresh_name() -> str:
    return f"api-{secrets.token_hex(4)}"


def test_creating_an_organisation_shows_its_working_code_once(
    admin: httpx.Client, shared_server: ServerProcess
) -> None:
    name = fresh_name()
    answer = admin.post("/orgs", json={"name": name})
    assert answer.status_code == 201
    body = answer.json()
    assert body["name"] == name
    assert len(body["code"]) >= 32
    assert answer.headers["Cache-Control"] == "no-store"
    statuses = statuses_list(shared_server, body["code"]).json()["Statuses"]
    assert [s["ID"] for s in statuses] == [1, 2, 3, 5, 7, 9, 11, 12, 13]
    listed = {o["name"]: o for o in admin.get("/orgs").json()}
    assert listed[name]["agents"] == 0
    assert listed[name]["allowlist"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed[name]["created"])
    assert "code" not in listed[name]


def test_an_organisation_can_be_created_with_a_chosen_code(
    admin: httpx.Client, shared_server: ServerProcess
) -> None:
    name, code = fresh_name(), secrets.token_hex(16)
    answer = admin.post("/orgs", json={"name": name, "code": code})
    assert answer.json() == {"name": name, "code": code}
    assert code_works(shared_server, code)


def test_listing_counts_agents_and_extensions(admin: httpx.Client, org: OrgFixture) -> None:
    listed = {o["name"]: o for o in admin.get("/orgs").json()}
    assert listed[org.name]["agents"] == 3
    assert listed[org.name]["extensions"] == 3


def test_an_existing_name_is_409(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post("/orgs", json={"name": org.name})
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": f"organisation {org.name!r} already exists",
        "code": "conflict",
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "has space"}, "invalid organisation name"),
        ({"name": "x" * 65}, "invalid organisation name"),
        ({"name": fresh_name(), "code": "two words"}, "must be at least 24 characters"),
    ],
)
def test_an_invalid_organisation_is_422(
    admin: httpx.Client, body: dict[str, str], fragment: str
) -> None:
    answer = admin.post("/orgs", json=body)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"name": 5}, {"name": "ok", "colour": "red"}])
def test_a_malformed_body_is_a_validation_422(admin: httpx.Client, body: dict[str, object]) -> None:
    answer = admin.post("/orgs", json=body)
    assert answer.status_code == 422
    assert isinstance(answer.json()["detail"], list)


def test_rotating_the_code_retires_the_old_one(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    answer = admin.post(f"/orgs/{org.name}/rotate-code")
    assert answer.status_code == 200
    new_code = answer.json()["code"]
    assert answer.json()["name"] == org.name
    assert new_code != org.code
    assert answer.headers["Cache-Control"] == "no-store"
    assert code_works(shared_server, new_code)
    assert not code_works(shared_server, org.code)


def test_rotating_to_a_chosen_code(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    chosen = secrets.token_hex(16)
    answer = admin.post(f"/orgs/{org.name}/rotate-code", json={"code": chosen})
    assert answer.json() == {"name": org.name, "code": chosen}
    assert code_works(shared_server, chosen)


def test_rotating_to_a_code_another_organisation_uses_is_409_without_saying_why(
    admin: httpx.Client, org: OrgFixture
) -> None:
    """More in test_custom_codes.py (the rule, the limit, the command line)."""
    other = admin.post("/orgs", json={"name": fresh_name()}).json()
    answer = admin.post(f"/orgs/{org.name}/rotate-code", json={"code": other["code"]})
    assert answer.status_code == 409
    assert answer.json() == {"detail": REFUSED, "code": "conflict"}


def test_an_unknown_organisation_is_404(admin: httpx.Client) -> None:
    answer = admin.post("/orgs/no-such-org/rotate-code")
    assert answer.status_code == 404
    assert answer.json() == {
        "detail": "no organisation named 'no-such-org'",
        "code": "organisation_not_found",
    }


def test_an_organisation_name_outside_the_pattern_is_422(admin: httpx.Client) -> None:
    answer = admin.get("/orgs/bad.name/agents")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "org"]


def test_the_allowlist_is_set_normalised_and_cleared(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/allowlist"
    answer = admin.put(path, json={"entries": ["10.1.2.3/8", "192.0.2.7"]})
    assert answer.status_code == 200
    allowlist = answer.json()["allowlist"]
    assert allowlist is not None
    assert "10.0.0.0/8" in allowlist
    listed = {o["name"]: o for o in admin.get("/orgs").json()}
    assert listed[org.name]["allowlist"] == allowlist
    assert admin.put(path, json={"entries": []}).json() == {"allowlist": None}
    admin.put(path, json={"entries": ["192.0.2.7"]})
    assert admin.put(path, json={"entries": None}).json() == {"allowlist": None}
    listed = {o["name"]: o for o in admin.get("/orgs").json()}
    assert listed[org.name]["allowlist"] is None


def test_an_invalid_allowlist_entry_is_422_and_changes_nothing(
    admin: httpx.Client, org: OrgFixture
) -> None:
    path = f"/orgs/{org.name}/allowlist"
    admin.put(path, json={"entries": ["192.0.2.7"]})
    answer = admin.put(path, json={"entries": ["192.0.2.7", "not-an-address"]})
    assert answer.status_code == 422
    assert "not-an-address" in answer.json()["detail"]
    listed = {o["name"]: o for o in admin.get("/orgs").json()}
    assert listed[org.name]["allowlist"] == ["192.0.2.7/32"]


def test_the_shift_end_is_set_read_and_turned_off(admin: httpx.Client, org: OrgFixture) -> None:
    path = f"/orgs/{org.name}/shift-end"
    assert admin.get(path).json() == {"time": None, "days": None, "next": None}
    answer = admin.put(path, json={"time": "18:30", "days": ["mon", "fri"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["time"], body["days"]) == ("18:30", ["mon", "fri"])
    assert body["next"].endswith("T18:30:00.000Z")  # the organisation's zone is UTC
    assert admin.get(path).json() == body
    every_day = admin.put(path, json={"time": "07:00"}).json()
    assert every_day["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert admin.delete(path).json() == {"time": None, "days": None, "next": None}
    for bad in ({"time": "25:00"}, {"time": "18:00", "days": ["monday"]}, {"time": 18}, {}):
        assert admin.put(path, json=bad).status_code == 422, bad
    assert admin.put(path, json={"time": "18:00", "days": []}).status_code == 422
