"""GetExtensions and GetExtensionsCalls (SPEC.md section 4), over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service import organisations
from tests.conftest import OrgFactory
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


UNAUTHORIZED = {"ERR": 1, "DESC": "Unauthorized"}


def set_status(base: str, code: str, user: str, ext: str, status: int) -> None:
    answer = httpx.get(
        f"{base}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user, "ExtensionUser": ext, "Status": status},
    ).json()
    assert answer["StatusErroMessage"] == "OK"


def test_get_extensions_lists_every_extension(
    shared_server: ServerProcess, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(extension_count=3)
    response = httpx.get(f"{shared_server.base_url}/Comet/api/GetExtensions?code={org.code}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["ERR"] == 0
    assert body["DESC"] == "OK"
    assert [e["SIP"] for e in body["EXTENSIONS"]] == ["sip1", "sip2", "sip3"]
    assert body["EXTENSIONS"][0]["Name"] == "Desk 1"


def test_get_extensions_calls_shows_who_is_online(
    shared_server: ServerProcess, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    base = shared_server.base_url
    set_status(base, org.code, "101", "sip2", 3)
    body = httpx.get(f"{base}/comet/API/GetExtensionsCalls", params={"code": org.code}).json()
    by_sip = {e["username"]: e for e in body["EXTENSIONS"]}
    extension_id = by_sip["sip2"]["extensionID"]
    assert isinstance(extension_id, int)
    assert extension_id > 0
    assert by_sip["sip2"] == {
        "username": "sip2",
        "name": "Desk 2",
        "onlineUserID": 101,
        "onlineUserStatus": 3,
        "representative": "Agent 1",
        "extensionID": extension_id,
        "userID": 101,
        "calls": [],  # no phone system: tests/pbx fill them
    }
    assert by_sip["sip1"]["representative"] == ""
    assert by_sip["sip1"]["onlineUserID"] == 0
    assert by_sip["sip1"]["onlineUserStatus"] == 2
    set_status(base, org.code, "101", "sip2", 2)
    only = httpx.get(
        f"{base}/comet/api/getextensionscalls", params={"CODE": org.code, "extension": "sip2"}
    ).json()
    assert [e["onlineUserID"] for e in only["EXTENSIONS"]] == [0]


def test_post_json_is_accepted(
    shared_server: ServerProcess, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(extension_count=1)
    body = httpx.post(
        f"{shared_server.base_url}/Comet/api/GetExtensions", json={"Code": org.code}
    ).json()
    assert [e["SIP"] for e in body["EXTENSIONS"]] == ["sip1"]


@pytest.mark.parametrize("path", ["/Comet/api/GetExtensions", "/comet/API/GetExtensionsCalls"])
@pytest.mark.parametrize("query", ["?code=wrong", "", "?code="])
def test_unknown_or_missing_code_is_unauthorized(
    shared_server: ServerProcess, path: str, query: str
) -> None:
    response = httpx.get(f"{shared_server.base_url}{path}{query}")
    assert response.status_code == 200
    assert response.json() == UNAUTHORIZED


def test_allowlist_applies(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    organisations.set_allowlist(shared_engine, org.name, ["10.0.0.0/8"])
    response = httpx.get(f"{shared_server.base_url}/Comet/api/GetExtensions?code={org.code}")
    assert response.status_code == 403
    assert response.json() == UNAUTHORIZED
