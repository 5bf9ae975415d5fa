"""What a red-team pass found, each attack reproduced against a real server process (one for
the module, each test its own organisation): every value gets an outcome-table answer, an
incomplete or doubled input applies nothing by accident, and nothing a request sends can
forge or leak a log line."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.secret_box import SecretBox
from agentstatus.events.delivery import DeliveryPolicy, claim_due
from agentstatus.service import organisations, presence, webhooks
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import ImportRejected
from agentstatus.service.tokens import Role, create_token
from tests.cli.helpers import invoke, run_cli
from tests.support.factories import make_org
from tests.support.receiver import LOOPBACK
from tests.support.server import ServerProcess

SET_STATUS = "/UserLogin/SetStatusFromAPI"
STATUS_NOT_SUPPORT = {"Status": 4, "StatusError": 0, "StatusErroMessage": "Status not support"}


@pytest.fixture
def engine(shared_engine: Engine) -> Engine:
    """The module's database; each test makes its own organisation."""
    return shared_engine


@pytest.fixture(scope="module")
def server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real process for the module (raw connections, its own log file)."""
    env = {"AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1", "AGENTSTATUS_HEAD_TIMEOUT_SECONDS": "1"}
    log = tmp_path_factory.mktemp("hostile") / "server.log"
    with ServerProcess(shared_database_url, log, env=env) as process:
        yield process


def exchange(
    server: ServerProcess, *parts: bytes, pause: float = 0.05, hang_up: bool = False
) -> bytes:
    """Send ``parts`` on one connection (each in its own write), then read until closed;
    ``hang_up`` closes our side once they are sent (a client that went away)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
            time.sleep(pause)
        if hang_up:
            sock.shutdown(socket.SHUT_WR)
        answer = bytearray()
        while chunk := sock.recv(65536):
            answer += chunk
    return bytes(answer)


def test_a_status_of_thousands_of_digits_is_row_9(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    huge = "1" * 5000
    base = {"Code": org.code, "UserId": "101", "ExtensionUser": "sip1"}
    with httpx.Client(base_url=server.base_url) as client:
        answers = [
            client.get(SET_STATUS, params={**base, "Status": huge}),
            client.post(SET_STATUS, json={**base, "Status": huge}),
            client.post(SET_STATUS, data={**base, "Status": huge}),
            client.get(SET_STATUS, params={**base, "Status": "0" * 5000 + "1"}),
        ]
    for answer in answers[:3]:
        assert (answer.status_code, answer.json()) == (200, STATUS_NOT_SUPPORT)
    # Leading zeros are only zeros: this one is Login.
    assert answers[3].json()["StatusErroMessage"] == "OK"


def test_the_first_of_repeated_json_keys_wins(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    body = (
        f'{{"Code": "{org.code}", "UserId": "101", "ExtensionUser": "sip1",'
        ' "Status": 3, "Status": 1, "UserId": "102"}'
    )
    answer = httpx.post(
        f"{server.base_url}{SET_STATUS}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.json()["StatusErroMessage"] == "OK"
    where = {p.user_id: (p.extension, p.status) for p in presence.list_presence(engine, org.name)}
    assert where["101"] == ("sip1", 3)
    assert where["102"] == (None, 2)


def test_a_body_cut_short_changes_nothing(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    body = f"Code={org.code}&UserId=101&ExtensionUser=sip1&Status=13".encode()
    head = (
        f"POST {SET_STATUS} HTTP/1.1\r\nHost: test\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    exchange(server, head + body[:-1], hang_up=True)  # "Status=1", then it goes away
    time.sleep(0.5)
    where = {p.user_id: p.status for p in presence.list_presence(engine, org.name)}
    assert where["101"] == 2


def test_only_the_head_counts_against_its_limit(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.ADMIN, org.name).token
    rows = "".join(f"{700000 + i},Agent number {i} of a large import\n" for i in range(4000))
    body = ("user_id,name\n" + rows).encode()
    assert len(body) > 150_000
    head = (
        f"POST /api/v1/orgs/{org.name}/agents/import HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r"
    ).encode()
    # The blank line that ends the head is cut across two reads, the body right behind it.
    answer = exchange(server, head, b"\n" + body)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    # And all in one read.
    again = exchange(server, head + b"\n" + body)
    assert again.startswith(b"HTTP/1.1 200"), again[:200]


def test_every_line_of_x_forwarded_for_counts(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    organisations.set_allowlist(engine, org.name, ["10.0.0.0/8"])
    query = f"Code={org.code}&UserId=101&ExtensionUser=sip1&Status=1"
    request = (
        f"GET {SET_STATUS}?{query} HTTP/1.1\r\nHost: test\r\n"
        # The client forged the first line; the proxy appended the second.
        "X-Forwarded-For: 10.1.2.3\r\nX-Forwarded-For: 192.0.2.7\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = exchange(server, request)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


def test_no_log_line_shows_the_code_or_is_forged(engine: Engine, server: ServerProcess) -> None:
    org = make_org(engine)
    upgrade = (
        f"GET {SET_STATUS}?Code={org.code}&UserId=101&ExtensionUser=sip1&Status=1 HTTP/1.1\r\n"
        "Host: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    exchange(server, upgrade, hang_up=True)
    forged = 'x\r\n2026-12-01T00:00:00Z access 6.6.6.6 "GET /forged" 200 1.0ms'
    long_value = "v" * 60_000
    with httpx.Client(base_url=server.base_url) as client:
        client.get("/api/v1/" + forged.replace("\r\n", "%0D%0A").replace(" ", "%20"))
        client.get(SET_STATUS, params={"UserId": long_value + "\x00\x1b[31m"})
    time.sleep(0.5)  # the access log is flushed a few times a second
    log = server.log_path.read_text()
    assert org.code not in log
    assert not any(line.startswith("2026-12-01T00:00:00Z") for line in log.splitlines())
    assert "\\x0d\\x0a" in log
    assert "\x1b" not in log
    assert max(len(line) for line in log.splitlines()) < 5000


def test_a_head_that_never_finishes_is_cut_off(server: ServerProcess) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: te")
        answer = sock.recv(65536)
        closed = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert closed == b""
    assert time.monotonic() - started < 5  # the timeout is 1 s here, not forever
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        silent = sock.recv(65536)  # a connection that sends nothing at all
    assert silent.startswith(b"HTTP/1.1 408"), silent


def test_a_spoofed_host_is_not_reflected_in_a_redirect(server: ServerProcess) -> None:
    answer = httpx.get(
        f"{server.base_url}/api/v1/orgs/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert answer.status_code == 307
    assert answer.headers["location"] == "/api/v1/orgs"


def test_an_unterminated_quote_is_refused() -> None:
    with pytest.raises(ImportRejected) as refused:
        read_pairs('user_id,name\n101,"Dana', "user_id", str)
    assert "line" in refused.value.problems[0]


def test_an_endless_file_is_one_clear_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert invoke(url, "org", "create", "acme").code == 0
    done = run_cli(url, "agent", "import", "acme", "/dev/zero")
    assert done.code != 0
    assert "larger than 64 MiB" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_database_file_is_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'private.db'}"
    assert run_cli(url, "org", "create", "acme").code == 0
    for path in tmp_path.glob("private.db*"):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & 0o077 == 0, (path.name, oct(mode))


def test_test_event_ids_never_repeat(tmp_path: Path) -> None:
    """SQLite gives a deleted delivery's id to the next; the event id must not follow.
    (On a database of its own: no server's deliverer may claim the delivery first.)"""
    engine = open_database(f"sqlite:///{tmp_path / 'agentstatus.db'}")
    org = make_org(engine)
    box = SecretBox(Fernet.generate_key())
    seen = []
    for _ in range(2):
        hook = webhooks.add_endpoint(
            engine, box, org.name, "http://127.0.0.1:9/hook", outbound=LOOPBACK
        )
        delivery = webhooks.enqueue_test(engine, org.name, hook.endpoint.id)
        (claimed,) = claim_due(engine, DeliveryPolicy())
        assert claimed.id == delivery
        seen.append((claimed.id, claimed.event_id))
        time.sleep(0.002)
        webhooks.remove_endpoint(engine, org.name, hook.endpoint.id)
    engine.dispose()
    assert seen[0][0] == seen[1][0]  # the row id was reused...
    assert seen[0][1] != seen[1][1]  # ...the event id was not
