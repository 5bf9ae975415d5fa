"""What a status change does (SPEC.md 3.2), one rule per test, through real HTTP, with
the database read back afterwards: presence, the append-only history and the audit log.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import to_iso
from agentstatus.service.history import HistoryEvent, read_history
from agentstatus.service.organisations import set_allowlist
from agentstatus.service.presence import AgentPresence, list_presence
from agentstatus.service.statuses import update_status
from tests.support.changes import deactivate
from tests.support.compat import (
    Via,
    assert_row,
    audit_rows,
    database_bytes,
    db_path,
    params,
    query,
    send,
)
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def client(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def org(shared_engine: Engine) -> OrgFixture:
    return make_org(shared_engine)


@pytest.fixture(scope="module")
def database(shared_database_url: str) -> Path:
    return db_path(shared_database_url)


def presence_of(engine: Engine, org: OrgFixture) -> dict[str, AgentPresence]:
    return {p.user_id: p for p in list_presence(engine, org.name)}


def where(engine: Engine, org: OrgFixture, user_id: str = "101") -> tuple[str | None, int]:
    agent = presence_of(engine, org)[user_id]
    return agent.extension, agent.status


def events(engine: Engine, org: OrgFixture) -> list[HistoryEvent]:
    return read_history(engine, org.name, limit=1000).events


def change(
    client: httpx.Client, org: OrgFixture, user: str, ext: str, status: int, via: Via = Via.GET
) -> httpx.Response:
    return send(client, via, params(org, user, ext, status))


def test_login_puts_the_agent_on_the_extension(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    assert where(shared_engine, org) == ("sip1", 1)
    assert where(shared_engine, org, "102") == (None, 2)


@pytest.mark.parametrize("status", [3, 5, 7, 9, 11, 12, 13])
def test_a_break_status_keeps_the_extension(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, status: int
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    assert_row(change(client, org, "101", "sip1", status), 12)
    assert where(shared_engine, org) == ("sip1", status)
    last = events(shared_engine, org)[-1]
    assert (last.prev_extension, last.prev_status) == ("sip1", 1)
    assert (last.new_extension, last.new_status) == ("sip1", status)


def test_a_break_status_logs_a_logged_out_agent_in(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip2", 3), 12)
    assert where(shared_engine, org) == ("sip2", 3)


def test_moving_frees_the_old_extension_in_one_event(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    assert_row(change(client, org, "101", "sip2", 3), 12)
    assert where(shared_engine, org) == ("sip2", 3)
    moves = events(shared_engine, org)
    assert len(moves) == 2
    assert (moves[1].prev_extension, moves[1].prev_status) == ("sip1", 1)
    assert (moves[1].new_extension, moves[1].new_status) == ("sip2", 3)
    # The old extension is free: another agent can take it at once.
    assert_row(change(client, org, "102", "sip1", 1), 12)
    assert where(shared_engine, org, "102") == ("sip1", 1)


def test_logout_frees_whatever_extension_whichever_is_sent(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    assert_row(change(client, org, "102", "sip2", 1), 12)
    # 101 names sip2, held by 102: it is still logged out from sip1.
    assert_row(change(client, org, "101", "sip2", 2), 12)
    assert where(shared_engine, org) == (None, 2)
    assert where(shared_engine, org, "102") == ("sip2", 1)
    last = events(shared_engine, org)[-1]
    assert (last.user_id, last.prev_extension, last.new_extension) == ("101", "sip1", None)
    assert (last.prev_status, last.new_status) == (1, 2)


def test_logout_naming_an_unknown_extension_is_row_8_and_keeps_the_agent(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    assert_row(change(client, org, "101", "no-such-sip", 2), 8)
    assert where(shared_engine, org) == ("sip1", 1)


def test_logging_out_a_logged_out_agent_is_ok_and_records_nothing(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    before = presence_of(shared_engine, org)["101"]
    assert_row(change(client, org, "101", "sip1", 2), 12)
    assert presence_of(shared_engine, org)["101"] == before
    assert events(shared_engine, org) == []


def test_repeating_the_current_status_records_nothing(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 3), 12)
    before = presence_of(shared_engine, org)["101"]
    for via in Via:
        assert_row(change(client, org, "101", "sip1", 3, via), 12)
    assert presence_of(shared_engine, org)["101"] == before  # not even since_ms moves
    assert len(events(shared_engine, org)) == 1


def test_organisations_are_isolated(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    other = make_org(shared_engine, extension_count=4)  # also has sip1, and a sip4
    assert_row(change(client, other, "101", "sip1", 1), 12)
    assert_row(change(client, org, "101", "sip1", 1), 12)  # a different sip1
    assert_row(change(client, org, "102", "sip4", 1), 8)  # not this organisation's
    assert_row(change(client, other, "101", "sip1", 2, Via.FORM), 12)
    assert where(shared_engine, org) == ("sip1", 1)
    assert where(shared_engine, other) == (None, 2)


def test_a_disabled_status_is_row_9_until_enabled(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    update_status(shared_engine, org.name, 5, enabled=False)
    assert_row(change(client, org, "101", "sip1", 5), 9)
    assert where(shared_engine, org) == (None, 2)
    update_status(shared_engine, org.name, 5, enabled=True)
    assert_row(change(client, org, "101", "sip1", 5), 12)
    assert where(shared_engine, org) == ("sip1", 5)


def test_a_deactivated_agent_is_row_6(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    assert_row(change(client, org, "101", "sip1", 1), 12)
    deactivate(shared_engine, org.name, "101")
    for status in (1, 2):
        assert_row(change(client, org, "101", "sip1", status), 6)
    assert "101" not in presence_of(shared_engine, org)
    # Deactivating logged it out (source admin), so the extension is free.
    assert_row(change(client, org, "102", "sip1", 1), 12)
    assert [e.source for e in events(shared_engine, org)] == ["GET", "admin", "GET"]


@pytest.mark.parametrize("via", list(Via))
def test_each_applied_change_appends_one_complete_event(
    client: httpx.Client, shared_engine: Engine, org: OrgFixture, via: Via
) -> None:
    steps = [("sip1", 1), ("sip1", 3), ("sip2", 3), ("sip2", 2)]
    expected_previous: tuple[str | None, int] = (None, 2)
    for ext, status in steps:
        started = time.time_ns() // 1_000_000
        assert_row(change(client, org, "101", ext, status, via), 12)
        finished = time.time_ns() // 1_000_000
        event = events(shared_engine, org)[-1]
        new = (None if status == 2 else ext, status)
        assert (event.prev_extension, event.prev_status) == expected_previous
        assert (event.new_extension, event.new_status) == new
        assert event.user_id == "101"
        assert event.source == ("GET" if via is Via.GET else "POST")
        assert event.client_addr == "127.0.0.1"
        assert started <= event.at_ms <= finished  # milliseconds since the epoch
        assert to_iso(event.at_ms).endswith(f".{event.at_ms % 1000:03d}Z")
        expected_previous = new
    assert len(events(shared_engine, org)) == len(steps)


def test_refused_requests_are_audited_with_their_row(
    client: httpx.Client, shared_engine: Engine, database: Path, org: OrgFixture
) -> None:
    assert_row(change(client, org, "102", "sip2", 1), 12)
    assert_row(change(client, org, "101", "sip9", 1), 8)
    assert_row(change(client, org, "101", "sip1", 4, Via.JSON), 9)
    assert_row(change(client, org, "101", "sip2", 1, Via.FORM), 10)
    assert_row(change(client, org, "nobody", "sip1", 1), 6)
    set_allowlist(shared_engine, org.name, ["192.0.2.0/24"])
    assert_row(change(client, org, "101", "sip1", 1), 7)
    assert audit_rows(database, org.name) == [
        (8, "101", "SetStatusFromAPI", "GET", "127.0.0.1"),
        (9, "101", "SetStatusFromAPI", "POST", "127.0.0.1"),
        (10, "101", "SetStatusFromAPI", "POST", "127.0.0.1"),
        (6, "nobody", "SetStatusFromAPI", "GET", "127.0.0.1"),
        (7, "101", "SetStatusFromAPI", "GET", "127.0.0.1"),
    ]


def test_an_unknown_code_is_audited_without_the_code(
    client: httpx.Client, database: Path, org: OrgFixture
) -> None:
    wrong = secrets.token_hex(24)
    user = f"u{secrets.token_hex(6)}"
    assert_row(send(client, Via.JSON, params(wrong, user, "sip1", 1)), 6)
    audited = query(
        database,
        "SELECT org_id, outcome_row, endpoint, source, client_addr FROM audit WHERE user_id = ?",
        (user,),
    )
    assert audited == [(None, 6, "SetStatusFromAPI", "POST", "127.0.0.1")]
    assert wrong.encode() not in database_bytes(database)


def test_the_code_is_nowhere_in_the_database_file(
    client: httpx.Client, database: Path, org: OrgFixture
) -> None:
    for via in Via:
        assert_row(change(client, org, "101", "sip1", 1, via), 12)
        assert_row(change(client, org, "101", "nope", 1, via), 8)
        assert_row(change(client, org, "nobody", "sip1", 1, via), 6)
    stored = database_bytes(database)
    assert len(stored) > 0
    assert org.code.encode() not in stored
    assert org.code.upper().encode() not in stored
