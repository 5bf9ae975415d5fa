"""``GetStatusesList`` (SPEC.md 4): the organisation's enabled statuses in id order, read
through real HTTP from a real server process.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service.organisations import set_allowlist
from agentstatus.service.statuses import add_status, update_status
from tests.support.compat import GET_STATUSES_LIST, SPEC_OUTCOMES, db_path, query
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess

# SPEC.md section 2, with the colours the README's example shows for id 1.
DEFAULT_IDS = [1, 2, 3, 5, 7, 9, 11, 12, 13]
DEFAULT_NAMES = [
    "Login",
    "Logout",
    "Lunch break",
    "Administrative time",
    "Private break",
    "Other",
    "Training",
    "Department meeting",
    "Summary (wrap-up)",
]


@pytest.fixture(scope="module")
def client(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def org(shared_engine: Engine) -> OrgFixture:
    return make_org(shared_engine)


def statuses(response: httpx.Response) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["Statuses"]
    listed: list[dict[str, object]] = body["Statuses"]
    for entry in listed:
        assert list(entry) == ["ID", "Name", "Color"]
    return listed


def ids(response: httpx.Response) -> list[object]:
    return [s["ID"] for s in statuses(response)]


def test_a_new_organisation_lists_the_default_catalogue(
    client: httpx.Client, org: OrgFixture
) -> None:
    listed = statuses(client.get(GET_STATUSES_LIST, params={"code": org.code}))
    assert [s["ID"] for s in listed] == DEFAULT_IDS
    assert [s["Name"] for s in listed] == DEFAULT_NAMES
    assert listed[0]["Color"] == "#2ecc71"
    for entry in listed:
        color = entry["Color"]
        assert isinstance(color, str)
        assert len(color) == 7
        assert color.startswith("#")
        int(color[1:], 16)


def test_disabled_statuses_are_absent_and_return_when_enabled(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    update_status(shared_engine, org.name, 3, enabled=False)
    update_status(shared_engine, org.name, 13, enabled=False)
    listed = ids(client.get(GET_STATUSES_LIST, params={"code": org.code}))
    assert listed == [1, 2, 5, 7, 9, 11, 12]
    update_status(shared_engine, org.name, 3, enabled=True)
    assert 3 in ids(client.get(GET_STATUSES_LIST, params={"code": org.code}))


def test_renamed_and_recoloured_statuses_show_their_new_look(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    update_status(shared_engine, org.name, 3, name="ארוחת צהריים", color="#123abc")
    listed = statuses(client.get(GET_STATUSES_LIST, params={"code": org.code}))
    assert {"ID": 3, "Name": "ארוחת צהריים", "Color": "#123abc"} in listed
    assert len(listed) == len(DEFAULT_IDS)


def test_added_statuses_appear_in_id_order(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    add_status(shared_engine, org.name, 20, "Coaching", color="#abcdef")
    add_status(shared_engine, org.name, 4, "Callback")
    listed = statuses(client.get(GET_STATUSES_LIST, params={"code": org.code}))
    assert [s["ID"] for s in listed] == sorted([*DEFAULT_IDS, 4, 20])
    assert {"ID": 20, "Name": "Coaching", "Color": "#abcdef"} in listed


def test_each_organisation_sees_only_its_own_catalogue(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    other = make_org(shared_engine)
    update_status(shared_engine, other.name, 3, name="Somebody else's lunch")
    add_status(shared_engine, other.name, 40, "Only theirs")
    listed = statuses(client.get(GET_STATUSES_LIST, params={"code": org.code}))
    assert [s["ID"] for s in listed] == DEFAULT_IDS
    assert listed[2]["Name"] == "Lunch break"


def test_an_unknown_code_gets_the_row_6_object(
    client: httpx.Client, shared_database_url: str
) -> None:
    response = client.get(GET_STATUSES_LIST, params={"code": secrets.token_hex(24)})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == SPEC_OUTCOMES[6][1]
    # Audited as a failed authentication, like SetStatusFromAPI's.
    database: Path = db_path(shared_database_url)
    (last,) = query(
        database, "SELECT org_id, outcome_row, endpoint FROM audit ORDER BY id DESC LIMIT 1"
    )
    assert last == (None, 6, "GetStatusesList")


def test_a_refused_post_is_audited_as_a_post(
    client: httpx.Client, shared_database_url: str
) -> None:
    response = client.post(GET_STATUSES_LIST, data={"code": secrets.token_hex(24)})
    assert response.json() == SPEC_OUTCOMES[6][1]
    (last,) = query(
        db_path(shared_database_url),
        "SELECT outcome_row, endpoint, source FROM audit ORDER BY id DESC LIMIT 1",
    )
    assert last == (6, "GetStatusesList", "POST")


def test_a_missing_code_gets_an_authorization_failed_object(client: httpx.Client) -> None:
    response = client.get(GET_STATUSES_LIST)
    assert response.status_code == 200
    assert response.json()["StatusErroMessage"] == "Authorization Failed"
    assert "Statuses" not in response.json()


def test_an_address_outside_the_allow_list_gets_403(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    set_allowlist(shared_engine, org.name, ["10.0.0.0/8"])
    response = client.get(GET_STATUSES_LIST, params={"code": org.code})
    assert response.status_code == 403
    assert response.json() == SPEC_OUTCOMES[7][1]
    set_allowlist(shared_engine, org.name, ["127.0.0.0/8"])
    assert ids(client.get(GET_STATUSES_LIST, params={"code": org.code})) == DEFAULT_IDS


@pytest.mark.parametrize(
    "path",
    ["/userlogin/getstatuseslist", "/USERLOGIN/GETSTATUSESLIST", "/UserLogin/GetStatusesList/"],
)
@pytest.mark.parametrize("name", ["code", "Code", "CODE"])
def test_path_and_parameter_name_match_case_insensitively(
    client: httpx.Client, org: OrgFixture, path: str, name: str
) -> None:
    assert ids(client.get(path, params={name: f" {org.code} "})) == DEFAULT_IDS


@pytest.mark.parametrize("name", ["code", "Code"])
def test_post_json_is_accepted_too(client: httpx.Client, org: OrgFixture, name: str) -> None:
    assert ids(client.post(GET_STATUSES_LIST, json={name: org.code})) == DEFAULT_IDS


def test_a_form_post_is_accepted_too(client: httpx.Client, org: OrgFixture) -> None:
    assert ids(client.post(GET_STATUSES_LIST, data={"code": org.code})) == DEFAULT_IDS


def test_an_unreadable_post_gets_the_row_1_object(client: httpx.Client, org: OrgFixture) -> None:
    response = client.post(
        GET_STATUSES_LIST,
        content=b'{"code": "' + org.code.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == SPEC_OUTCOMES[1][1]
