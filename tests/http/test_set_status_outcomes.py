"""Every row of the outcomes table (SPEC.md 3.1) over GET, POST-JSON and form POST,
through real HTTP to a real ``agentstatus serve`` process, on SQLite and on PostgreSQL.

Each row has a recipe that sets the stage and returns the request that must produce it;
the test checks the exact answer (HTTP status, JSON body, headers), and every table of
the database before and after: a refusal adds its audit row (if its row is audited) and
nothing else, row 12 changes the agent's presence and appends its event and nothing else.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.service.history import read_history
from agentstatus.service.organisations import set_allowlist
from agentstatus.service.presence import AgentPresence, list_presence
from agentstatus.wire.outcomes import OUTCOMES, Row
from tests.support.compat import (
    RETRY_AFTER_ROWS,
    SET_STATUS,
    SPEC_OUTCOMES,
    Via,
    assert_row,
    params,
    send,
)
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess
from tests.support.tables import (
    Contents,
    appended,
    contents,
    one,
    org_id,
    refusing_history,
    sqlite_bytes,
    unchanged_but,
)

LIMIT = 3


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """The whole walk runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


@pytest.fixture(scope="module")
def limited(
    shared_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[tuple[ServerProcess, Engine]]:
    """A server of its own, on a database of its own on the walk's engine, that blocks an
    address after 3 failed authentications."""
    base = tmp_path_factory.mktemp("limited")
    if shared_database_url.startswith("sqlite"):
        url = f"sqlite:///{base / 'agentstatus.db'}"
    else:
        url = postgres_databases.create()
    engine = open_database(url)
    try:
        env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": str(LIMIT)}
        with InProcessServer(url, base / "server.log", env=env) as server:
            yield server, engine
    finally:
        engine.dispose()


@dataclass
class Stage:
    client: httpx.Client
    engine: Engine
    limited_client: httpx.Client
    limited_engine: Engine


@dataclass
class Attempt:
    org: OrgFixture
    engine: Engine
    send: Callable[[], httpx.Response]


@pytest.fixture(scope="module")
def stage(
    shared_server: ServerProcess,
    shared_engine: Engine,
    limited: tuple[ServerProcess, Engine],
) -> Iterator[Stage]:
    limited_server, limited_engine = limited
    with (
        httpx.Client(base_url=shared_server.base_url, timeout=30) as client,
        httpx.Client(base_url=limited_server.base_url, timeout=30) as limited_client,
    ):
        yield Stage(client, shared_engine, limited_client, limited_engine)


def _simple(stage: Stage, via: Via, **overrides: object) -> Attempt:
    org = make_org(stage.engine)
    values = params(org, "101", "sip1", 1)
    values.update(overrides)
    sent = {k: v for k, v in values.items() if v is not None}
    return Attempt(org, stage.engine, lambda: send(stage.client, via, sent))


def row_1(stage: Stage, via: Via) -> Attempt:
    org = make_org(stage.engine)
    if via is Via.JSON:
        body = b'{"Code": "' + org.code.encode() + b'", "UserId": '
        headers = {"Content-Type": "application/json"}
    else:
        body = b"Code=" + org.code.encode() + b"&UserId=101&ExtensionUser=sip\xff&Status=1"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return Attempt(
        org, stage.engine, lambda: stage.client.post(SET_STATUS, content=body, headers=headers)
    )


def row_2(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, UserId=None)


def row_3(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, ExtensionUser=None)


def row_4(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, Status="")


def row_5(stage: Stage, via: Via) -> Attempt:
    org = make_org(stage.limited_engine)
    wrong = params(secrets.token_hex(24), "101", "sip1", 1)
    for _ in range(LIMIT + 1):
        if send(stage.limited_client, Via.GET, wrong).status_code == 429:
            break
    else:
        pytest.fail("the limiter never blocked this address")
    # Blocked: even a correct request is refused (row 5 comes before row 6).
    right = params(org, "101", "sip1", 1)
    return Attempt(org, stage.limited_engine, lambda: send(stage.limited_client, via, right))


def row_6(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, Code=secrets.token_hex(24))


def row_7(stage: Stage, via: Via) -> Attempt:
    attempt = _simple(stage, via)
    set_allowlist(stage.engine, attempt.org.name, ["10.0.0.0/8"])  # we are 127.0.0.1
    return attempt


def row_8(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, ExtensionUser="no-such-extension")


def row_9(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via, Status=4)  # not in the default catalogue


def row_10(stage: Stage, via: Via) -> Attempt:
    attempt = _simple(stage, via)
    taken = send(stage.client, Via.GET, params(attempt.org, "102", "sip1", 1))
    assert taken.json()["StatusErroMessage"] == "OK"
    return attempt


def row_11(stage: Stage, via: Via) -> Attempt:
    attempt = _simple(stage, via)

    def refused() -> httpx.Response:
        with refusing_history(attempt.engine, attempt.org.name):
            return attempt.send()

    return Attempt(attempt.org, attempt.engine, refused)


def row_12(stage: Stage, via: Via) -> Attempt:
    return _simple(stage, via)


RECIPES: dict[Row, Callable[[Stage, Via], Attempt]] = {
    Row.UNREADABLE: row_1,
    Row.MISSING_CODE_OR_USER: row_2,
    Row.MISSING_EXTENSION: row_3,
    Row.MISSING_STATUS: row_4,
    Row.RATE_LIMITED: row_5,
    Row.AUTHENTICATION_FAILED: row_6,
    Row.ADDRESS_NOT_ALLOWED: row_7,
    Row.UNKNOWN_EXTENSION: row_8,
    Row.STATUS_NOT_SUPPORTED: row_9,
    Row.EXTENSION_IN_USE: row_10,
    Row.UPDATE_FAILED: row_11,
    Row.OK: row_12,
}

# Row 1 is about bodies: a GET has none, and a query string that is not UTF-8 is refused
# by the HTTP server itself (400) before the application sees it. Other methods: below.
NOT_APPLICABLE = {(Row.UNREADABLE, Via.GET)}
CASES = [(row, via) for row in Row for via in Via if (row, via) not in NOT_APPLICABLE]


# Audited (SPEC.md 3.2): every failed authentication and every refusal after it. Rows 1-5
# come before authentication; row 11 is a failure of the storage that would hold the entry.
AUDITED = frozenset(
    {
        Row.AUTHENTICATION_FAILED,
        Row.ADDRESS_NOT_ALLOWED,
        Row.UNKNOWN_EXTENSION,
        Row.STATUS_NOT_SUPPORTED,
        Row.EXTENSION_IN_USE,
    }
)


@dataclass(frozen=True)
class Snapshot:
    presence: list[AgentPresence]
    events: int
    tables: Contents
    stored: bytes | None
    """SQLite: the database file and its WAL, byte for byte."""


def snapshot(attempt: Attempt) -> Snapshot:
    page = read_history(attempt.engine, attempt.org.name, limit=1000)
    return Snapshot(
        list_presence(attempt.engine, attempt.org.name),
        len(page.events),
        contents(attempt.engine),
        sqlite_bytes(attempt.engine),
    )


@dataclass(frozen=True)
class Sent:
    """One request of the walk: what it was, when it was answered."""

    attempt: Attempt
    row: Row
    via: Via
    started_ms: int
    finished_ms: int

    @property
    def source(self) -> str:
        return "GET" if self.via is Via.GET else "POST"


def check_applied(sent: Sent, before: Snapshot, after: Snapshot) -> None:
    """Row 12: agent 101 moved from logged out to sip1 with status 1, one event says so,
    and nothing else changed anywhere."""
    assert after.events == before.events + 1
    assert after.presence != before.presence
    old, new = before.tables, after.tables
    oid = org_id(sent.attempt.engine, sent.attempt.org.name)
    agent = one(old["agents"], org_id=oid, user_id="101")["id"]
    sip1 = one(old["extensions"], org_id=oid, sip="sip1")["id"]
    events = appended(old, new, "history")
    assert len(events) == 1, f"row 12 must append one event: {events}"
    (event,) = events
    assert event == {
        "id": event["id"],
        "org_id": oid,
        "agent_id": agent,
        "user_id": "101",
        "prev_extension": None,
        "new_extension": "sip1",
        "prev_status": LOGOUT,
        "new_status": 1,
        "at_ms": event["at_ms"],
        "source": sent.source,
        "client_addr": "127.0.0.1",
        "policy": None,
        "due_ms": None,
        "call": None,
        "kind": "agent.login",
        # The wire carries no identity and no reason: none is recorded (issue 23).
        "reason": None,
        "actor": None,
        "detail": None,
    }
    assert sent.started_ms <= int(str(event["at_ms"])) <= sent.finished_ms
    was = one(old["presence"], agent_id=agent)
    assert (was["extension_id"], was["status"]) == (None, LOGOUT)
    moved = {
        **was,
        "extension_id": sip1,
        "status": 1,
        "since_ms": event["at_ms"],
        "version": int(str(was["version"])) + 1,
    }
    assert new["presence"] == [moved if r is was else r for r in old["presence"]]
    unchanged_but(old, new, "history", "presence")


def check_refused(sent: Sent, before: Snapshot, after: Snapshot) -> None:
    """Rows 1-11: the audit row of an audited row, and nothing else, anywhere."""
    assert after.presence == before.presence
    assert after.events == before.events
    old, new = before.tables, after.tables
    added = appended(old, new, "audit")
    if sent.row in AUDITED:
        assert len(added) == 1, f"row {sent.row.value} must be audited once: {added}"
        (entry,) = added
        by_code = sent.row is not Row.AUTHENTICATION_FAILED  # row 6 sent a wrong Code
        assert {k: v for k, v in entry.items() if k not in ("id", "at_ms")} == {
            "org_id": org_id(sent.attempt.engine, sent.attempt.org.name) if by_code else None,
            "user_id": "101",
            "outcome_row": sent.row.value,
            "endpoint": "SetStatusFromAPI",
            "source": sent.source,
            "client_addr": "127.0.0.1",
        }
        assert sent.started_ms <= int(str(entry["at_ms"])) <= sent.finished_ms
    else:
        assert added == [], "an unaudited row was audited"
    engine_name = sent.attempt.engine.dialect.name
    if sent.row is Row.AUTHENTICATION_FAILED and engine_name == "postgresql":
        # On PostgreSQL every instance counts the failure against the same allowance.
        counted = {r["client"]: r["failures"] for r in new["auth_failures"]}
        previous = {r["client"]: r["failures"] for r in old["auth_failures"]}
        assert counted.get("127.0.0.1", 0) == previous.get("127.0.0.1", 0) + 1
        assert {k: v for k, v in counted.items() if k != "127.0.0.1"} == {
            k: v for k, v in previous.items() if k != "127.0.0.1"
        }
        unchanged_but(old, new, "audit", "auth_failures")
    else:
        unchanged_but(old, new, "audit")
    # Row 11 creates and drops its trigger, which SQLite's file records.
    if sent.row not in AUDITED and sent.row is not Row.UPDATE_FAILED:
        assert after.stored == before.stored, "a refused request wrote to the database file"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.mark.parametrize(("row", "via"), CASES, ids=[f"row{r.value}-{v}" for r, v in CASES])
def test_each_row_over_each_way_of_sending(stage: Stage, row: Row, via: Via) -> None:
    attempt = RECIPES[row](stage, via)
    before = snapshot(attempt)
    started = now_ms()
    response = attempt.send()
    sent = Sent(attempt, row, via, started, now_ms())
    assert_row(response, row.value)
    after = snapshot(attempt)
    if row is Row.OK:
        check_applied(sent, before, after)
    else:
        check_refused(sent, before, after)


def test_the_walk_covers_every_row_of_the_table() -> None:
    assert set(RECIPES) == set(Row)
    assert {row for row, _ in CASES} == set(Row)
    for row in Row:
        vias = {via for r, via in CASES if r is row}
        assert vias == ({Via.JSON, Via.FORM} if row is Row.UNREADABLE else set(Via))


def test_the_served_table_is_the_spec_table() -> None:
    assert [row.value for row in Row] == list(range(1, 13))
    for row, outcome in OUTCOMES.items():
        http_status, body = SPEC_OUTCOMES[row.value]
        assert outcome.http_status == http_status
        assert outcome.as_dict() == body
        assert outcome.retry_after == (row.value in RETRY_AFTER_ROWS)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_with_the_row_1_object(stage: Stage, method: str) -> None:
    org = make_org(stage.engine)
    response = stage.client.request(
        method, SET_STATUS, params={k: str(v) for k, v in params(org, "101", "sip1", 1).items()}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == SPEC_OUTCOMES[1][1]
    assert all(p.extension is None for p in list_presence(stage.engine, org.name))


def test_a_get_ignores_any_body_and_reads_only_its_query(stage: Stage) -> None:
    org = make_org(stage.engine)
    response = stage.client.request(
        "GET",
        SET_STATUS,
        params={k: str(v) for k, v in params(org, "101", "sip1", 1).items()},
        content=b"{ not json",
        headers={"Content-Type": "application/json"},
    )
    assert_row(response, 12)


def test_rows_are_checked_in_table_order(stage: Stage) -> None:
    """Fix one thing at a time in a request that is wrong in every way: each answer is
    the first row that still applies, so nothing leaks before authentication."""
    org = make_org(stage.engine)
    assert_row(send(stage.client, Via.GET, params(org, "102", "sip1", 1)), 12)  # for row 10
    set_allowlist(stage.engine, org.name, ["10.0.0.0/8"])
    wrong_code = secrets.token_hex(24)
    steps: list[tuple[dict[str, object], int]] = [
        ({}, 2),
        ({"Code": wrong_code}, 2),
        ({"Code": wrong_code, "UserId": "nobody"}, 3),
        ({"Code": wrong_code, "UserId": "nobody", "ExtensionUser": "nope"}, 4),
        ({"Code": wrong_code, "UserId": "nobody", "ExtensionUser": "nope", "Status": "x"}, 6),
        ({"Code": org.code, "UserId": "nobody", "ExtensionUser": "nope", "Status": "x"}, 6),
        ({"Code": org.code, "UserId": "101", "ExtensionUser": "nope", "Status": "x"}, 7),
    ]
    for values, row in steps:
        assert_row(send(stage.client, Via.JSON, values), row)
    set_allowlist(stage.engine, org.name, None)
    base = {"Code": org.code, "UserId": "101"}
    assert_row(send(stage.client, Via.JSON, {**base, "ExtensionUser": "nope", "Status": "x"}), 8)
    assert_row(send(stage.client, Via.JSON, {**base, "ExtensionUser": "sip1", "Status": "x"}), 9)
    assert_row(send(stage.client, Via.JSON, {**base, "ExtensionUser": "sip1", "Status": 3}), 10)
    assert_row(send(stage.client, Via.JSON, {**base, "ExtensionUser": "sip2", "Status": 3}), 12)
