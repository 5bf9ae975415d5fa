"""Agents over the native API: list, add, rename, (de)activate, import from CSV."""

from __future__ import annotations

import httpx
import pytest

from tests.http.api.helpers import set_status
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

CSV = {"Content-Type": "text/csv"}


def test_listing_agents(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.get(f"/orgs/{org.name}/agents")
    assert answer.status_code == 200
    assert answer.json() == [
        {"user_id": "101", "name": "Agent 1", "active": True},
        {"user_id": "102", "name": "Agent 2", "active": True},
        {"user_id": "103", "name": "Agent 3", "active": True},
    ]


def test_adding_an_agent(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents", json={"user_id": " 2001 ", "name": "Dana"})
    assert answer.status_code == 201
    assert answer.json() == {"user_id": "2001", "name": "Dana", "active": True}
    listed = admin.get(f"/orgs/{org.name}/agents").json()
    assert {"user_id": "2001", "name": "Dana", "active": True} in listed
    assert admin.post(f"/orgs/{org.name}/agents", json={"user_id": "2002"}).json()["name"] == ""


def test_adding_an_existing_agent_is_409(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents", json={"user_id": "101"})
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": f"agent '101' already exists in {org.name!r}",
        "code": "conflict",
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"user_id": "two words"}, "must not contain spaces"),
        ({"user_id": "   "}, "must not be empty"),
        ({"user_id": "x" * 129}, "longer than 128"),
        ({"user_id": "9", "name": "bell\x07"}, "control characters"),
    ],
)
def test_an_invalid_agent_is_422(
    admin: httpx.Client, org: OrgFixture, body: dict[str, str], fragment: str
) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents", json=body)
    assert answer.status_code == 422
    assert fragment in answer.json()["detail"]


def test_agents_of_an_unknown_organisation_are_404(admin: httpx.Client) -> None:
    assert admin.get("/orgs/no-such-org/agents").status_code == 404
    answer = admin.post("/orgs/no-such-org/agents", json={"user_id": "1"})
    assert answer.status_code == 404
    assert answer.json() == {
        "detail": "no organisation named 'no-such-org'",
        "code": "organisation_not_found",
    }


def test_renaming_an_agent(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.patch(f"/orgs/{org.name}/agents/102", json={"name": "Noa"})
    assert answer.status_code == 200
    assert answer.json() == {"user_id": "102", "name": "Noa", "active": True}
    assert admin.get(f"/orgs/{org.name}/agents").json()[1]["name"] == "Noa"


def test_deactivating_logs_the_agent_out_and_reactivating_lets_it_back(
    admin: httpx.Client, shared_server: ServerProcess, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    answer = admin.patch(f"/orgs/{org.name}/agents/101", json={"active": False, "name": "Gone"})
    assert answer.json() == {"user_id": "101", "name": "Gone", "active": False}
    events = admin.get(f"/orgs/{org.name}/history", params={"user_id": "101"}).json()["events"]
    assert events[-1]["source"] == "admin"
    assert events[-1]["actor"].startswith("token:")  # the token's label, or its id
    assert events[-1]["new"] == {"extension": None, "status": 2}
    presence = admin.get(f"/orgs/{org.name}/presence").json()["agents"]
    assert "101" not in [p["user_id"] for p in presence]
    assert admin.patch(f"/orgs/{org.name}/agents/101", json={"active": True}).json()["active"]
    set_status(shared_server, org.code, "101", "sip1", 1)


def test_updating_nothing_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.patch(f"/orgs/{org.name}/agents/101", json={})
    assert answer.status_code == 422
    assert answer.json() == {"detail": "give 'name', 'active' or both", "code": "validation_error"}


def test_updating_an_unknown_agent_is_404(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.patch(f"/orgs/{org.name}/agents/999", json={"active": False})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no agent '999' in this organisation", "code": "not_found"}


def test_importing_agents_creates_and_renames(admin: httpx.Client, org: OrgFixture) -> None:
    text = "\ufeffuser_id,name\n101,Renamed One\n301,New One\n\n302,New Two\n"
    answer = admin.post(f"/orgs/{org.name}/agents/import", content=text.encode(), headers=CSV)
    assert answer.status_code == 200
    assert answer.json() == {"created": 2, "updated": 1}
    names = {a["user_id"]: a["name"] for a in admin.get(f"/orgs/{org.name}/agents").json()}
    assert names == {
        "101": "Renamed One",
        "102": "Agent 2",
        "103": "Agent 3",
        "301": "New One",
        "302": "New Two",
    }


def test_an_import_with_bad_rows_reports_every_one_and_imports_nothing(
    admin: httpx.Client, org: OrgFixture
) -> None:
    text = "user_id,name\n401,Good\nbad id,Someone\n402,Fine\n401,Again\n,Nobody\n403,a,b\n"
    answer = admin.post(
        f"/orgs/{org.name}/agents/import", content=text, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"] == "4 bad row(s); nothing was imported"
    problems = body["problems"]
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 5", "line 6", "line 7"]
    assert "repeats line 2" in problems[1]
    assert [a["user_id"] for a in admin.get(f"/orgs/{org.name}/agents").json()] == org.agents


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the file is empty"),
        (b"id,name\n1,One\n", "expected the header 'user_id,name'"),
    ],
)
def test_an_import_without_the_header_is_422(
    admin: httpx.Client, org: OrgFixture, content: bytes, fragment: str
) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents/import", content=content, headers=CSV)
    assert answer.status_code == 422
    assert fragment in answer.json()["problems"][0]


def test_an_import_that_is_not_utf8_is_422(admin: httpx.Client, org: OrgFixture) -> None:
    content = "user_id,name\n501,Zoë\n".encode("latin-1")
    answer = admin.post(f"/orgs/{org.name}/agents/import", content=content, headers=CSV)
    assert answer.status_code == 422
    assert answer.json() == {"detail": "the file is not UTF-8 text", "code": "validation_error"}


def test_an_import_that_is_not_csv_is_415(admin: httpx.Client, org: OrgFixture) -> None:
    answer = admin.post(f"/orgs/{org.name}/agents/import", json={"user_id": "1"})
    assert answer.status_code == 415
    assert answer.json() == {
        "detail": "send the file as Content-Type: text/csv",
        "code": "unsupported_media_type",
    }
    assert len(admin.get(f"/orgs/{org.name}/agents").json()) == 3
