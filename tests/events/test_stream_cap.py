"""The cap on event streams per token: a 429 in the API's error shape before the stream
starts, and every way a stream ends gives its slot back."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.events.credentials import token
from agentstatus.events.fanout import Dropped, EventFilter, Subscription
from agentstatus.events.slots import RETRY_AFTER_SECONDS, StreamSlots
from agentstatus.service.errors import TooMany
from agentstatus.service.tokens import Role, create_token
from tests.support.bulk import make_big_org
from tests.support.factories import make_org
from tests.support.server import ServerProcess

# Streams closed by the server, and the sockets they leave: a real process, not a thread of
# the test's.
pytestmark = pytest.mark.server_process

CAP = 3


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'agentstatus.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN": str(CAP)}
    with ServerProcess(str(engine.url), tmp_path / "server.log", env=env) as process:
        yield process


def open_stream(
    server: ServerProcess, org: str, token: str, receive_buffer: int = 0
) -> socket.socket:
    """A raw stream connection, its request sent (nothing read)."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        f"GET /api/v1/orgs/{org}/events HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


def started(sock: socket.socket) -> bool:
    """True when the stream began (200 and its first bytes)."""
    sock.settimeout(10)
    head = sock.recv(65536)
    return head.startswith(b"HTTP/1.1 200")


def stream_status(server: ServerProcess, org: str, token: str) -> httpx.Response:
    """The answer to one more stream (read up to its head, then closed)."""
    url = f"{server.base_url}/api/v1/orgs/{org}/events"
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as answer:
        if answer.status_code != 200:
            answer.read()
        return answer


def refused_count(server: ServerProcess) -> int:
    for line in httpx.get(f"{server.base_url}/metrics").text.splitlines():
        if line.startswith("agentstatus_event_streams_refused "):
            return int(float(line.split()[1]))
    raise AssertionError("no agentstatus_event_streams_refused in /metrics")


def until_accepted(server: ServerProcess, org: str, token: str, timeout: float = 10.0) -> float:
    """Seconds until a stream of this token is accepted again."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if stream_status(server, org, token).status_code == 200:
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("the token's slots were not given back")


def test_the_cap_answers_429_and_a_closed_stream_frees_its_slot(
    engine: Engine, server: ServerProcess
) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    other = create_token(engine, Role.SUPERVISOR, org.name).token
    streams = [open_stream(server, org.name, token) for _ in range(CAP)]
    assert all(started(s) for s in streams)
    refused = stream_status(server, org.name, token)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert refused.json() == {
        "detail": f"this token has {CAP} event streams open, the most allowed "
        "(AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN); close one or try again later",
        "code": "too_many_streams",
    }
    assert refused_count(server) == 1
    assert stream_status(server, org.name, other).status_code == 200  # per token
    streams.pop().close()  # the client hangs up
    until_accepted(server, org.name, token)
    for sock in streams:
        sock.close()
    deadline = time.monotonic() + 10
    while True:  # every slot back: CAP streams at once again
        again = [open_stream(server, org.name, token) for _ in range(CAP)]
        accepted = [started(s) for s in again]
        for sock in again:
            sock.close()
        if all(accepted):
            break
        assert time.monotonic() < deadline, accepted
        time.sleep(0.2)


def test_a_stream_that_does_not_take_its_snapshot_is_closed_and_frees_its_slot(
    engine: Engine, server: ServerProcess
) -> None:
    """A snapshot larger than the socket buffers (20,000 agents: 2.5 MB), never read."""
    org = make_big_org(engine, 20_000)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    stalled = [open_stream(server, org.name, token, receive_buffer=4096) for _ in range(CAP)]
    time.sleep(0.5)
    assert stream_status(server, org.name, token).status_code == 429
    waited = until_accepted(server, org.name, token, timeout=20)
    for sock in stalled:
        sock.settimeout(10)
        received = 0
        while chunk := sock.recv(1 << 20):  # the server closed the connection
            received += len(chunk)
        assert received < 2_400_000  # cut short: it never had the whole snapshot
        sock.close()
    assert waited < 15


def test_every_end_of_a_subscription_gives_its_slot_back() -> None:
    """Dropped for lagging, for a revoked token, at shutdown, or closed by its stream."""

    async def run() -> None:
        slots = StreamSlots(4)
        reasons = [Dropped.LAGGED, Dropped.REVOKED, Dropped.CLOSED, Dropped.STALLED]
        subscriptions = []
        for _ in reasons:
            subscription = Subscription(EventFilter(), 0, 1)
            subscription.release = slots.take(token(7))
            subscriptions.append(subscription)
        with pytest.raises(TooMany):
            slots.take(token(7))
        assert slots.take(token(8)) is not None  # another token
        for subscription, reason in zip(subscriptions, reasons, strict=True):
            subscription.drop(reason)
            subscription.close()  # its stream's clean-up too: given back once
        assert slots.held(token(7)) == 0
        assert slots.held(token(8)) == 1
        assert slots.refused == 1
        unlimited = StreamSlots(0)
        for _ in range(100):
            unlimited.take(token(7))
        assert unlimited.held(token(7)) == 100

    asyncio.run(run())
