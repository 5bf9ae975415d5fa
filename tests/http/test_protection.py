"""Protection (SPEC.md 6) against a real server: the failed-authentication limiter, the
allow-list behind trusted proxies (and ``X-Forwarded-For`` ignored without them), and a
server log that never holds the Code.

The ``guarded`` server trusts 127.0.0.1 as a proxy, so each test speaks for its own
client address through ``X-Forwarded-For`` and the limiter's state never leaks between
tests.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.history import read_history
from agentstatus.service.organisations import set_allowlist
from agentstatus.service.presence import list_presence
from tests.support.compat import (
    GET_STATUSES_LIST,
    SET_STATUS,
    SPEC_OUTCOMES,
    Via,
    assert_row,
    db_path,
    history_refused,
    params,
    send,
)
from tests.support.factories import make_org
from tests.support.server import ServerProcess

# reads the log file of the server: a real process
pytestmark = pytest.mark.server_process

LIMIT = 3


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Engine]]:
    base = tmp_path_factory.mktemp("guarded")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    engine = open_database(url)
    env = {
        "AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": str(LIMIT),
        "AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1",
    }
    try:
        with (
            ServerProcess(url, base / "server.log", env=env) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            yield client, engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def direct(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the shared server, which trusts no proxy and has the default limit."""
    with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
        yield client


def as_from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def attempt(client: httpx.Client, values: dict[str, object], address: str) -> httpx.Response:
    return send(client, Via.GET, values, headers=as_from(address))


def fail(client: httpx.Client, address: str) -> httpx.Response:
    return attempt(client, params(secrets.token_hex(24), "101", "sip1", 1), address)


def test_failures_block_an_address_and_successes_never_count(
    guarded: tuple[httpx.Client, Engine],
) -> None:
    client, engine = guarded
    org = make_org(engine)
    me = "198.51.100.1"
    for i in range(10):
        assert_row(attempt(client, params(org, "101", "sip1", (1, 3)[i % 2]), me), 12)
    for _ in range(LIMIT - 1):
        assert_row(fail(client, me), 6)
    assert_row(attempt(client, params(org, "101", "sip1", 5), me), 12)  # not blocked yet
    assert_row(fail(client, me), 6)  # the LIMIT-th failure
    # Blocked: even a correct request is refused (row 5 comes before row 6).
    assert_row(attempt(client, params(org, "101", "sip1", 7), me), 5)
    assert_row(fail(client, me), 5)
    blocked_list = client.get(GET_STATUSES_LIST, params={"code": org.code}, headers=as_from(me))
    assert blocked_list.status_code == 429
    assert blocked_list.json() == SPEC_OUTCOMES[5][1]
    assert [(p.extension, p.status) for p in list_presence(engine, org.name)][:1] == [("sip1", 5)]
    # Only that address is blocked: another client, and the proxy itself, go on.
    assert_row(attempt(client, params(org, "101", "sip1", 9), "198.51.100.2"), 12)
    assert_row(send(client, Via.JSON, params(org, "102", "sip2", 1)), 12)


def test_unreadable_and_incomplete_requests_neither_count_nor_are_blocked(
    guarded: tuple[httpx.Client, Engine],
) -> None:
    client, engine = guarded
    org = make_org(engine)
    me = "198.51.100.3"
    for _ in range(LIMIT * 3):
        assert_row(attempt(client, params(org, None, "sip1", 1), me), 2)
        assert_row(attempt(client, params(org, "101", None, 1), me), 3)
        assert_row(attempt(client, params(org, "101", "sip1", None), me), 4)
    assert_row(attempt(client, params(org, "101", "sip1", 1), me), 12)
    for _ in range(LIMIT):
        assert_row(fail(client, me), 6)
    # Rows 1-4 are checked before row 5, blocked or not.
    assert_row(attempt(client, params(org, "101", None, 1), me), 3)
    unreadable = client.post(SET_STATUS, content=b"{", headers={"X-Forwarded-For": me})
    assert_row(unreadable, 1)
    assert_row(attempt(client, params(org, "101", "sip1", 3), me), 5)


def test_refusals_after_authentication_do_not_count(
    guarded: tuple[httpx.Client, Engine],
) -> None:
    client, engine = guarded
    org = make_org(engine)
    me = "198.51.100.4"
    assert_row(attempt(client, params(org, "102", "sip2", 1), me), 12)
    for _ in range(LIMIT * 2):
        assert_row(attempt(client, params(org, "101", "nope", 1), me), 8)
        assert_row(attempt(client, params(org, "101", "sip1", 4), me), 9)
        assert_row(attempt(client, params(org, "101", "sip2", 1), me), 10)
    assert_row(attempt(client, params(org, "101", "sip1", 1), me), 12)


def test_get_statuses_list_failures_count_too(guarded: tuple[httpx.Client, Engine]) -> None:
    client, engine = guarded
    org = make_org(engine)
    me = "198.51.100.5"
    for _ in range(LIMIT):
        wrong = client.get(GET_STATUSES_LIST, params={"code": "nope"}, headers=as_from(me))
        assert wrong.json() == SPEC_OUTCOMES[6][1]
    assert_row(attempt(client, params(org, "101", "sip1", 1), me), 5)


@pytest.mark.parametrize(
    ("forwarded", "row", "recorded"),
    [
        ("203.0.113.9", 12, "203.0.113.9"),
        ("203.0.113.9, 127.0.0.1", 12, "203.0.113.9"),  # trusted hops are skipped
        ("203.0.113.9, 198.51.100.7", 7, None),  # the nearest untrusted hop is the client
        ("not-an-address", 7, None),
        (None, 7, None),
    ],
)
def test_behind_a_trusted_proxy_the_allow_list_uses_x_forwarded_for(
    guarded: tuple[httpx.Client, Engine], forwarded: str | None, row: int, recorded: str | None
) -> None:
    client, engine = guarded
    org = make_org(engine)
    set_allowlist(engine, org.name, ["203.0.113.0/24"])
    headers = as_from(forwarded) if forwarded else None
    assert_row(send(client, Via.JSON, params(org, "101", "sip1", 1), headers=headers), row)
    events = read_history(engine, org.name).events
    assert [e.client_addr for e in events] == ([recorded] if recorded else [])


@pytest.fixture(scope="module")
def other_loopback(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the shared server from 127.0.0.2, an address uvicorn does not trust."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=shared_server.base_url, timeout=30, transport=transport) as client:
        try:
            client.get("/healthz")
        except httpx.ConnectError as exc:
            pytest.skip(f"cannot send from 127.0.0.2 here: {exc}")
        yield client


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    other_loopback: httpx.Client, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    set_allowlist(shared_engine, org.name, ["203.0.113.0/24"])
    spoofed = as_from("203.0.113.9")
    assert_row(send(other_loopback, Via.GET, params(org, "101", "sip1", 1), headers=spoofed), 7)
    set_allowlist(shared_engine, org.name, ["127.0.0.2"])
    assert_row(send(other_loopback, Via.GET, params(org, "101", "sip1", 1), headers=spoofed), 12)
    (event,) = read_history(shared_engine, org.name).events
    assert event.client_addr == "127.0.0.2"


def test_without_trusted_proxies_x_forwarded_for_from_localhost_is_ignored(
    direct: httpx.Client, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    set_allowlist(shared_engine, org.name, ["203.0.113.0/24"])
    spoofed = as_from("203.0.113.9")
    assert_row(send(direct, Via.GET, params(org, "101", "sip1", 1), headers=spoofed), 7)


def test_the_server_log_never_holds_the_code(
    direct: httpx.Client, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    wrong = secrets.token_hex(24)  # a mistyped Code is a secret too
    code = org.code
    rest = "UserId=101&ExtensionUser=sip1&Status=1"
    targets = [
        f"{SET_STATUS}?Code={code}&{rest}",  # OK
        f"{SET_STATUS}?code={code}&UserId=101&ExtensionUser=nope&Status=1",  # row 8
        f"{SET_STATUS}?CODE={code}",  # row 2
        f"{SET_STATUS}?C%6Fde={code}&{rest}",  # an escaped name
        f"{SET_STATUS}?Code={wrong}&{rest}",  # row 6
        f"{SET_STATUS}?{quote(f'Code={code}&{rest}', safe='')}",  # the whole query escaped
        f"{SET_STATUS}?{code}",  # a bare Code
        f"{GET_STATUSES_LIST}?code={code}",
        f"/comet/API/GetExtensionsCalls?code={code}",
        f"/no/such/path?code={code}",
    ]
    for target in targets:
        assert direct.get(target).status_code in (200, 404), target
    assert direct.put(targets[0]).status_code == 405
    post = direct.post(f"{SET_STATUS}?Code={code}", json={"UserId": "101", "Status": 2})
    assert_row(post, 3)
    with history_refused(db_path(shared_server.database_url), org.name):
        assert_row(
            direct.get(f"{SET_STATUS}?Code={code}&UserId=102&ExtensionUser=sip2&Status=1"), 11
        )
    marker = f"/end-of-test-{secrets.token_hex(8)}"
    assert direct.get(marker).status_code == 404
    deadline = time.monotonic() + 10
    while marker not in shared_server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = shared_server.log_path.read_text()
    assert marker in log
    assert "Code=[redacted]&UserId=101" in log  # the requests were logged, redacted
    assert "status change failed" in log  # row 11 logged its traceback
    for secret in (code, wrong):
        assert secret not in log
        assert secret.upper() not in log
