"""GetQueuesCallers (issue 24): the callers waiting in each queue, Voicenter-style, over
real HTTP on both engines; its refusals are Voicenter's ERR 1 / ERR 2 family."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.client import AuthorizationFailed, Client, Queue
from agentstatus.domain.clock import now_ms
from agentstatus.domain.queues import CallerChange
from agentstatus.http.voicenter.answers import QUEUE_ANSWERS
from agentstatus.service import organisations
from agentstatus.wire.outcomes import Row
from tests.cli.helpers import run_cli
from tests.conftest import OrgFactory
from tests.support.factories import OrgFixture
from tests.support.queues import ended, joined, write_callers
from tests.support.server import ServerProcess

PATH = "/comet/API/GetQueuesCallers"
MALFORMED = {"ERR": 1, "DESC": "Invalid request"}
INVALID_CODE = {"ERR": 2, "DESC": "Unauthorized"}
_FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


def callers_waiting(engine: Engine, org: OrgFixture) -> int:
    """Two callers waiting in support (30 s and 10 s), none in sales (its one answered);
    when "now" was, in ms."""
    now = now_ms()
    write_callers(
        engine,
        org.name,
        [
            joined("support", "1796590237.1", "0501234567", now - 30_000),
            joined("sales", "1796590240.4", "0509999999", now - 20_000),
            joined("support", "1796590249.9", "", now - 10_000),
            ended(CallerChange.ANSWERED, "sales", "1796590240.4", "0509999999", now - 15_000),
        ],
    )
    return now


def test_the_callers_waiting_in_each_queue_longest_first(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    now = callers_waiting(shared_engine, org)
    response = httpx.get(f"{shared_server.base_url}{PATH}", params={"code": org.code})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["ERR"], body["DESC"]) == (0, "OK")
    sales, support = body["QUEUES"]  # by name
    assert (sales["Name"], sales["Weight"], sales["Callers"]) == ("sales", 0, [])
    assert (support["Name"], support["Weight"]) == ("support", 0)
    assert isinstance(support["ID"], int)
    assert support["ID"] > 0
    assert support["ID"] != sales["ID"]
    first, second = support["Callers"]
    assert (first["Phone"], first["CallID"]) == ("0501234567", "1796590237.1")
    assert first["JoinTime"] == (now - 30_000) // 1000  # Unix seconds, as callStarted
    assert 30 <= first["Duration"] <= 40  # seconds waited so far, at the answer's moment
    assert (second["Phone"], second["CallID"]) == ("", "1796590249.9")  # the number hidden
    assert 10 <= second["Duration"] < first["Duration"]


def test_one_queue_by_name_any_method_and_case(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    callers_waiting(shared_engine, org)
    base = shared_server.base_url
    only = httpx.post(
        f"{base}/Comet/api/getqueuescallers", json={"Code": org.code, "queue": "sales"}
    )
    assert [q["Name"] for q in only.json()["QUEUES"]] == ["sales"]
    got = httpx.get(f"{base}{PATH}/", params={"CODE": org.code, "Queue": " support "}).json()
    assert [q["Name"] for q in got["QUEUES"]] == ["support"]
    unknown = httpx.get(f"{base}{PATH}", params={"code": org.code, "queue": "nobody"})
    assert unknown.json() == {"ERR": 0, "DESC": "OK", "QUEUES": []}
    # An organisation with no queue heard of answers none, and sees no other's.
    quiet = shared_org_factory()
    assert httpx.get(f"{base}{PATH}", params={"code": quiet.code}).json()["QUEUES"] == []


@pytest.mark.parametrize("query", ["", "?code=", "?code=%20", "?queue=support"])
def test_a_request_without_a_code_is_err_1(shared_server: ServerProcess, query: str) -> None:
    response = httpx.get(f"{shared_server.base_url}{PATH}{query}")
    assert (response.status_code, response.json()) == (200, MALFORMED)


def test_malformed_requests_and_other_methods_are_err_1(shared_server: ServerProcess) -> None:
    url = f"{shared_server.base_url}{PATH}"
    for body in (b"{not json", b"[1, 2]", b'{"code": {"nested": 1}}'):
        answer = httpx.post(url, content=body, headers={"content-type": "application/json"})
        assert (answer.status_code, answer.json()) == (200, MALFORMED), body
    form = httpx.post(url, content=b"code=\xff", headers={"content-type": _FORM})
    assert form.json() == MALFORMED  # a form that is not UTF-8
    for method in ("PUT", "DELETE", "PATCH"):
        refused = httpx.request(method, url, params={"code": "whatever"})
        assert (refused.status_code, refused.json()) == (405, MALFORMED), method
        assert refused.headers["allow"] == "GET, POST"


def test_a_wrong_code_or_address_is_err_2(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    url = f"{shared_server.base_url}{PATH}"
    wrong = httpx.get(url, params={"code": "no-such-code"})
    assert (wrong.status_code, wrong.json()) == (200, INVALID_CODE)
    posted = httpx.post(url, json={"code": "no-such-code", "queue": "support"})
    assert (posted.status_code, posted.json()) == (200, INVALID_CODE)
    org = shared_org_factory()
    organisations.set_allowlist(shared_engine, org.name, ["10.0.0.0/8"])
    elsewhere = httpx.get(url, params={"code": org.code})
    assert (elsewhere.status_code, elsewhere.json()) == (403, INVALID_CODE)


def test_an_internal_error_is_err_2_with_503() -> None:
    """The pipeline answers row 11 for any failure of the read (tests/http/test_durability.py
    takes the database away under the other endpoints); this endpoint's answer to it."""
    failed = QUEUE_ANSWERS[Row.UPDATE_FAILED]
    assert (failed.status, failed.retry_after) == (503, True)
    assert failed.body == b'{"ERR":2,"DESC":"Service unavailable"}'
    assert QUEUE_ANSWERS[Row.RATE_LIMITED].body == b'{"ERR":2,"DESC":"Unauthorized"}'


def test_the_python_client_reads_them_typed(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    now = callers_waiting(shared_engine, org)
    for method in ("POST", "GET"):
        with Client(org.code, shared_server.base_url, method=method, retries=0) as client:
            found = client.queues()
            assert [q.name for q in found] == ["sales", "support"]
            support = found[1]
            assert isinstance(support, Queue)
            assert [c.call_id for c in support.callers] == ["1796590237.1", "1796590249.9"]
            assert support.callers[0].phone == "0501234567"
            assert support.callers[0].join_time == (now - 30_000) // 1000
            assert support.callers[0].duration >= 30
            assert [q.name for q in client.queues("sales")] == ["sales"]
            assert client.queues("nobody") == []
    with (
        Client("no-such-code", shared_server.base_url, retries=0) as client,
        pytest.raises(AuthorizationFailed),
    ):
        client.queues()


def test_the_client_command_lists_the_callers(
    shared_server: ServerProcess, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    callers_waiting(shared_engine, org)
    done = run_cli(
        None,
        "client",
        "queues",
        "--base-url",
        shared_server.base_url,
        env={"AGENTSTATUS_CODE": org.code},
    )
    assert done.code == 0, done.stderr
    lines = [line.split() for line in done.stdout.strip().splitlines()]
    assert lines[0] == ["QUEUE", "PHONE", "CALL", "WAITED", "(S)"]
    assert [row[:3] for row in lines[1:]] == [
        ["sales", "-", "-"],
        ["support", "0501234567", "1796590237.1"],
        ["support", "-", "1796590249.9"],
    ]
    refused = run_cli(
        None, "client", "queues", "--base-url", shared_server.base_url, "--retries", "0",
        env={"AGENTSTATUS_CODE": "no-such-code"},
    )  # fmt: skip
    assert refused.code == 10  # AuthorizationFailed
    assert refused.stderr.startswith("error: authorization failed")
