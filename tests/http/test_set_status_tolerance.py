"""The tolerance rules of SPEC.md 3 (and the README's decisions), one test each, over
real HTTP: what real CRMs send must work, and what cannot be read is row 1.

Every accepted request is checked in the database too, not only by its answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from agentstatus.service.presence import list_presence
from tests.support.compat import SET_STATUS, Via, assert_row, params, send
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def org(shared_engine: Engine) -> OrgFixture:
    return make_org(shared_engine)


def where(engine: Engine, org: OrgFixture, user_id: str = "101") -> tuple[str | None, int]:
    (agent,) = [p for p in list_presence(engine, org.name) if p.user_id == user_id]
    return agent.extension, agent.status


def post_raw(
    client: httpx.Client, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(SET_STATUS, content=body, headers=headers)


@pytest.mark.parametrize("names", [("code", "userid"), ("CODE", "USERID"), ("cOdE", "uSeRiD")])
@pytest.mark.parametrize("via", list(Via))
def test_parameter_names_match_case_insensitively(
    client: httpx.Client,
    shared_engine: Engine,
    org: OrgFixture,
    names: tuple[str, str],
    via: Via,
) -> None:
    code_name, user_name = names
    values = {code_name: org.code, user_name: "101", "extensionuser": "sip2", "STATUS": 3}
    assert_row(send(client, via, values), 12)
    assert where(shared_engine, org) == ("sip2", 3)


@pytest.mark.parametrize("via", list(Via))
def test_sipid_is_an_alias_of_extension_user(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, via: Via
) -> None:
    values = {"Code": org.code, "UserId": "101", "sipid": "sip3", "Status": 1}
    assert_row(send(client, via, values), 12)
    assert where(shared_engine, org) == ("sip3", 1)


def test_a_form_post_is_accepted(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    body = f"Code={org.code}&UserId=101&ExtensionUser=sip1&Status=5".encode()
    assert_row(post_raw(client, body, FORM), 12)
    assert where(shared_engine, org) == ("sip1", 5)


def test_a_form_whose_body_is_json_is_read_as_json(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    """``curl -d '{...}'`` labels JSON as a form (a decision of docs/voicenter-api.md)."""
    body = orjson.dumps(params(org, "101", "sip1", 7))
    assert_row(post_raw(client, body, FORM), 12)
    assert where(shared_engine, org) == ("sip1", 7)


def test_status_may_be_a_json_number(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(client.post(SET_STATUS, json=params(org, "101", "sip1", 11)), 12)
    assert where(shared_engine, org) == ("sip1", 11)


def test_status_may_be_a_string_of_digits(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(client.post(SET_STATUS, json=params(org, "101", "sip1", "12")), 12)
    assert where(shared_engine, org) == ("sip1", 12)


def test_status_as_a_whole_float_counts_as_that_integer(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(post_raw(client, orjson.dumps(params(org, "101", "sip1", 3.0)), JSON), 12)
    assert where(shared_engine, org) == ("sip1", 3)


def test_user_id_may_be_a_json_number(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    body = {"Code": org.code, "UserId": 102, "ExtensionUser": "sip1", "Status": 1}
    assert_row(client.post(SET_STATUS, json=body), 12)
    assert where(shared_engine, org, "102") == ("sip1", 1)


@pytest.mark.parametrize("via", list(Via))
def test_surrounding_white_space_in_values_is_ignored(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, via: Via
) -> None:
    values = {
        "Code": f"  {org.code}\t",
        "UserId": " 101 ",
        "ExtensionUser": "\tsip2 ",
        "Status": " 3 ",
    }
    assert_row(send(client, via, values), 12)
    assert where(shared_engine, org) == ("sip2", 3)


@pytest.mark.parametrize(
    "path",
    ["/userlogin/setstatusfromapi", "/USERLOGIN/SETSTATUSFROMAPI", "/UserLogin/SetStatusFromAPI/"],
)
def test_the_path_is_matched_case_insensitively(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, path: str
) -> None:
    query = {k: str(v) for k, v in params(org, "101", "sip1", 1).items()}
    assert_row(client.get(path, params=query), 12)
    assert where(shared_engine, org) == ("sip1", 1)


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", None])
def test_json_labelled_text_plain_or_unlabelled_is_read(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = client.build_request(
        "POST", SET_STATUS, content=orjson.dumps(params(org, "101", "sip1", 5)), headers=headers
    )
    assert request.headers.get("content-type") == content_type
    assert_row(client.send(request), 12)
    assert where(shared_engine, org) == ("sip1", 5)


def test_post_query_parameters_fill_in_what_the_body_lacks(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    response = client.post(
        SET_STATUS,
        params={"Code": org.code},
        json={"UserId": "101", "ExtensionUser": "sip1", "Status": 1},
    )
    assert_row(response, 12)
    assert where(shared_engine, org) == ("sip1", 1)


def test_a_body_of_exactly_16_kib_is_read(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    body = orjson.dumps({**params(org, "101", "sip1", 1), "Padding": ""})
    body = body.replace(b'"Padding":""', b'"Padding":"' + b"x" * (16 * 1024 - len(body)) + b'"')
    assert len(body) == 16 * 1024
    assert_row(post_raw(client, body, JSON), 12)
    assert where(shared_engine, org) == ("sip1", 1)


def test_a_body_over_16_kib_is_row_1(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    body = orjson.dumps({**params(org, "101", "sip1", 1), "Padding": "x" * 16 * 1024})
    assert_row(post_raw(client, body, JSON), 1)
    assert where(shared_engine, org) == (None, 2)


def test_a_chunked_body_over_16_kib_is_row_1(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    """No Content-Length to refuse up front: the limit holds while reading."""
    head = orjson.dumps(params(org, "101", "sip1", 1))[:-1] + b',"Padding":"'

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(5):
            yield b"x" * 4096
        yield b'"}'

    response = client.post(SET_STATUS, content=chunks(), headers=JSON)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_row(response, 1)
    assert where(shared_engine, org) == (None, 2)


@pytest.mark.parametrize(
    "body",
    [b'{"Code": "x", "UserId": ', b"{'Code': 'x'}", b'{"Code": "x"} trailing', b"\xff\xfe{}"],
    ids=["truncated", "single-quotes", "trailing-garbage", "not-utf8"],
)
def test_malformed_json_is_row_1(client: httpx.Client, body: bytes) -> None:
    assert_row(post_raw(client, body, JSON), 1)


@pytest.mark.parametrize("document", [[], ["Code", "UserId"], "Code", 1, None])
def test_json_that_is_not_an_object_is_row_1(
    client: httpx.Client, org: OrgFixture, document: object
) -> None:
    if document == []:
        document = [params(org, "101", "sip1", 1)]
    assert_row(post_raw(client, orjson.dumps(document), JSON), 1)


@pytest.mark.parametrize("value", [True, [1], {"id": 1}])
def test_booleans_arrays_and_objects_as_values_are_row_1(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, value: object
) -> None:
    assert_row(client.post(SET_STATUS, json=params(org, "101", "sip1", value)), 1)
    assert where(shared_engine, org) == (None, 2)


@pytest.mark.parametrize(
    "content_type", ["application/xml", "multipart/form-data; boundary=x", "image/png"]
)
def test_an_unsupported_content_type_is_row_1(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, content_type: str
) -> None:
    body = orjson.dumps(params(org, "101", "sip1", 1))
    assert_row(post_raw(client, body, {"Content-Type": content_type}), 1)
    assert where(shared_engine, org) == (None, 2)


NOT_DIGITS = ["abc", "-1", "1.5", "\u2168", "\u0661", "99999999999999999999999"]


@pytest.mark.parametrize("status", NOT_DIGITS)
def test_a_status_that_is_not_ascii_digits_is_row_9(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, status: str
) -> None:
    assert_row(client.post(SET_STATUS, json=params(org, "101", "sip1", status)), 9)
    assert where(shared_engine, org) == (None, 2)


def test_when_a_name_repeats_the_first_occurrence_wins(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    query = f"Code={org.code}&UserId=101&ExtensionUser=sip2&extensionuser=sip3&Status=1&status=3"
    assert_row(client.get(f"{SET_STATUS}?{query}"), 12)
    assert where(shared_engine, org) == ("sip2", 1)
