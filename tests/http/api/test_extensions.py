"""Extensions over the native API: list, add, remove, import from CSV."""

from __future__ import annotations

import httpx

from tests.http.api.helpers import set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

CSV = {"Content-Type": "text/csv"}


def test_listing_extensions_shows_who_holds_them(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "102", "sip2", 1)
    answer = admin.get(f"/orgs/{org.name}/extensions")
    assert answer.status_code == 200
    assert answer.json() == [
        {"extension": "sip1", "name": "Desk 1", "held_by": None},
        {"extension": "sip2", "name": "Desk 2", "held_by": "102"},
        {"extension": "sip3", "name": "Desk 3", "held_by": None},
    ]


def test_adding_an_extension(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    answer = admin.post(f"/orgs/{org.name}/extensions", json={"extension": "sip9", "name": "Lab"})
    assert answer.status_code == 201
    assert answer.json() == {"extension": "sip9", "name": "Lab", "held_by": None}
    set_status(shared_server, org.code, "101", "sip9", 1)


def test_adding_an_existing_extension_is_409(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/extensions", json={"extension": "sip1"})
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": f"extension 'sip1' already exists in {org.name!r}",
        "code": "conflict",
    }


def test_an_invalid_extension_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/extensions", json={"extension": "sip 1"})
    assert answer.status_code == 422
    assert "must not contain spaces" in answer.json()["detail"]


def test_removing_an_extension(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.delete(f"/orgs/{org.name}/extensions/sip3")
    assert answer.status_code == 204
    assert answer.content == b""
    listed = [e["extension"] for e in admin.get(f"/orgs/{org.name}/extensions").json()]
    assert listed == ["sip1", "sip2"]
    again = admin.delete(f"/orgs/{org.name}/extensions/sip3")
    assert again.status_code == 404
    assert again.json() == {"detail": f"no extension 'sip3' in {org.name!r}", "code": "not_found"}


def test_removing_a_held_extension_logs_its_agent_out(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "103", "sip1", 3)
    assert admin.delete(f"/orgs/{org.name}/extensions/sip1").status_code == 204
    presence = {p["user_id"]: p for p in admin.get(f"/orgs/{org.name}/presence").json()["agents"]}
    assert presence["103"]["extension"] is None
    assert presence["103"]["status"] == 2
    events = admin.get(f"/orgs/{org.name}/history", params={"user_id": "103"}).json()["events"]
    assert events[-1]["source"] == "admin"
    assert events[-1]["actor"].startswith("token:")  # the token's label, or its id
    assert events[-1]["previous"] == {"extension": "sip1", "status": 3}


def test_an_extension_with_a_slash_is_addressable(admin: httpx.Client, org: OrgFixture) -> None:
    admin.post(f"/orgs/{org.name}/extensions", json={"extension": "pjsip/7"})
    assert admin.delete(f"/orgs/{org.name}/extensions/pjsip%2F7").status_code == 204
    listed = [e["extension"] for e in admin.get(f"/orgs/{org.name}/extensions").json()]
    assert "pjsip/7" not in listed


def test_importing_extensions(admin: httpx.Client, org: OrgFixture) -> None:
    text = "extension,name\nsip1,Front desk\nsip10,\nsip11,Back office\n"
    answer = admin.post(f"/orgs/{org.name}/extensions/import", content=text, headers=CSV)
    assert answer.status_code == 200
    assert answer.json() == {"created": 2, "updated": 1}
    names = {e["extension"]: e["name"] for e in admin.get(f"/orgs/{org.name}/extensions").json()}
    assert names["sip1"] == "Front desk"
    assert names["sip10"] == ""
    assert names["sip11"] == "Back office"


def test_an_extension_import_with_bad_rows_imports_nothing(
    admin: httpx.Client, org: OrgFixture
) -> None:
    text = 'extension,name\nsip20,Good\n"sip 21",Bad\nsip20,Again\nsip22,a,b\n'
    answer = admin.post(f"/orgs/{org.name}/extensions/import", content=text, headers=CSV)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert problems[0].startswith("line 3:")
    assert problems[1].startswith("line 4:")
    assert problems[2] == "line 5: 3 columns, expected 2"
    assert len(problems) == 3
    listed = [e["extension"] for e in admin.get(f"/orgs/{org.name}/extensions").json()]
    assert listed == org.extensions
