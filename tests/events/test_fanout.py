"""The fan-out over real HTTP: filters, and a subscriber that stops reading (dropped, the
others unaffected, every missed event delivered once on resume)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from agentstatus.app import open_database
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role, create_token, revoke_token
from agentstatus.storage.schema import history
from tests.reliability.figures import record
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess
from tests.support.sse import SSEvent, Subscriber, read_events

BUFFER = 20
ENV = {"AGENTSTATUS_EVENTS_BUFFER": str(BUFFER)}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'agentstatus.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[ServerProcess]:
    """A subscriber that stops reading must fill the real socket buffers of a server of its
    own (and be the only one its metrics count lagged): a real process."""
    with ServerProcess(str(engine.url), tmp_path / "server.log", env=ENV) as process:
        yield process


@pytest.fixture(scope="module")
def in_process(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """For the rest, the module's server in this process (each test its own organisation)."""
    log = tmp_path_factory.mktemp("fanout") / "server.log"
    with InProcessServer(shared_database_url, log, env=ENV) as running:
        yield running


def change(client: httpx.Client, org: OrgFixture, user: str, ext: str, status: int) -> None:
    params = {"Code": org.code, "UserId": user, "ExtensionUser": ext, "Status": status}
    answer = client.get("/UserLogin/SetStatusFromAPI", params=params).json()
    assert answer["StatusErroMessage"] == "OK", answer


def test_filters_by_agent_and_type(shared_engine: Engine, in_process: InProcessServer) -> None:
    engine, server = shared_engine, in_process
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
    headers = {"Authorization": f"Bearer {token}"}
    for bad in ([("user_id", "999")], [("type", "agent.lunch")], [("user_id", "101\x00")]):
        refused = httpx.get(url, params=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
    with (
        httpx.Client(base_url=server.base_url) as client,
        Subscriber(url, token, params=[("user_id", "101"), ("user_id", "103")]) as panel,
        Subscriber(url, token, params=[("type", "agent.logout")]) as logouts,
        Subscriber(url, token, params=[("user_id", "102"), ("type", "agent.status")]) as both,
    ):
        (snapshot,) = panel.wait_for(1)
        agents = snapshot.data["agents"]
        assert isinstance(agents, list)
        assert [a["user_id"] for a in agents] == ["101", "103"]
        logouts.wait_for(1)
        both.wait_for(1)
        for user, ext, status in [
            ("101", "sip1", 1),
            ("102", "sip2", 1),
            ("102", "sip2", 3),
            ("103", "sip3", 1),
            ("101", "sip1", 2),
            ("102", "sip2", 2),
        ]:
            change(client, org, user, ext, status)
        got_panel = panel.wait_for(4)[1:]
        got_logouts = logouts.wait_for(3)[1:]
        got_both = both.wait_for(2)[1:]
        time.sleep(0.3)  # nothing more may come
        assert len(panel.events) == 4
        assert len(logouts.events) == 3
        assert len(both.events) == 2
    assert [(e.data["user_id"], e.event) for e in got_panel] == [
        ("101", "agent.login"),
        ("103", "agent.login"),
        ("101", "agent.logout"),
    ]
    assert [(e.data["user_id"], e.event) for e in got_logouts] == [
        ("101", "agent.logout"),
        ("102", "agent.logout"),
    ]
    assert [(e.data["user_id"], e.event) for e in got_both] == [("102", "agent.status")]


def lagged_count(client: httpx.Client) -> int:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("agentstatus_event_subscribers_lagged "):
            return int(float(line.split()[1]))
    raise AssertionError("no agentstatus_event_subscribers_lagged in /metrics")


def _dechunk(raw: bytes) -> bytes:
    """The body of a chunked HTTP response, as far as it arrived."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    body = bytearray()
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            break
        body += rest[:size]
        rest = rest[size + 2 :]
    return bytes(body)


READER_SLACK = 200
"""How far the reading subscriber may be behind the changes (its buffer holds 1,000)."""


def test_a_subscriber_that_stops_reading_is_dropped_and_resumes_without_loss(
    engine: Engine, server: ServerProcess
) -> None:
    org = make_org(engine, agent_count=20, extension_count=20)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
    # Closed however the test ends: a socket left open is reported in a later test.
    with socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(
            f"GET /api/v1/orgs/{org.name}/events HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        raw = bytearray()
        while b"event: snapshot" not in raw or b"retry:" not in raw:
            raw += stalled.recv(65536)  # its snapshot, then it stops reading
        answered: list[float] = []
        with httpx.Client(base_url=server.base_url) as client, Subscriber(url, token) as reader:
            reader.wait_for(1)
            # Changes until the server drops the stalled subscriber (its socket buffers, then
            # its BUFFER events, fill up), and as many again while it is gone.
            dropped_after = None
            i = 0
            while dropped_after is None or i < 2 * dropped_after:
                assert i < 5_000, "the stalled subscriber was never dropped"
                agent = i % 20
                change(
                    client, org, org.agents[agent], org.extensions[agent], 1 if i % 40 < 20 else 3
                )
                answered.append(time.monotonic())
                i += 1
                if dropped_after is None and i % 10 == 0 and lagged_count(client) == 1:
                    dropped_after = i
                if i % 10 == 0:
                    # The reading subscriber is a thread of this process, sharing it with the
                    # server and this loop: kept within its buffer, so that only the stalled one
                    # falls behind (unpaced, it was dropped too now and then, in CI).
                    reader.wait_for(1 + i - READER_SLACK, timeout=30)
            changes = i
            reader.wait_for(1 + changes, timeout=30)
            delays = [reader.arrived[1 + i] - answered[i] for i in range(changes)]
            assert lagged_count(client) == 1  # only the stalled one
        # Now read what the stalled subscriber got, until the server closes its connection.
        stalled.settimeout(15)
        while chunk := stalled.recv(65536):
            raw += chunk
    body = _dechunk(bytes(raw)).decode()
    first: list[SSEvent] = list(read_events(iter(body.split("\n"))))
    assert first, "the stalled subscriber's snapshot did not even start"
    assert first[0].event == "snapshot"
    received = [e for e in first[1:] if e.event.startswith("agent.")]
    assert len(received) < changes  # it was dropped before the end
    lagged = [e for e in first if e.event == "lagged"]
    last = received[-1].id if received else first[0].id
    assert last is not None
    with Subscriber(url, token, last_event_id=last) as resumed:
        rest = resumed.wait_for(changes - len(received), timeout=30)
        time.sleep(0.3)
        rest = list(resumed.events)
    with engine.connect() as conn:
        every = list(
            conn.execute(
                select(history.c.id)
                .where(history.c.org_id == org_id(conn, org.name))
                .order_by(history.c.id)
            ).scalars()
        )
    assert len(every) == changes
    assert [e.id for e in received] + [e.id for e in rest] == every  # each once, in order
    ordered = sorted(delays)
    record(
        "fanout_stalled_subscriber",
        events=changes,
        dropped_after_changes=dropped_after,
        stalled_received_before_drop=len(received),
        lagged_event_seen=bool(lagged),
        other_p50_ms=round(ordered[len(ordered) // 2] * 1000, 1),
        other_max_ms=round(ordered[-1] * 1000, 1),
    )
    assert ordered[-1] < 1.0  # the others did not wait for it


def test_a_quiet_stream_gets_keepalives(
    shared_database_url: str, shared_engine: Engine, tmp_path: Path
) -> None:
    org = make_org(shared_engine)
    token = create_token(shared_engine, Role.SUPERVISOR, org.name).token
    env = {"AGENTSTATUS_EVENTS_KEEPALIVE_SECONDS": "1"}
    with InProcessServer(shared_database_url, tmp_path / "k.log", env=env) as server:
        url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
        lines: list[str] = []
        started = time.monotonic()
        with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as answer:
            for line in answer.iter_lines():
                lines.append(line)
                if sum(line.startswith(":") for line in lines) >= 2:
                    break
        elapsed = time.monotonic() - started
    assert lines[0] == "event: snapshot"
    assert [line for line in lines if line.startswith(":")] == [": ping", ": ping"]
    assert elapsed >= 1.0  # not sent at once


def test_revoking_a_token_ends_its_open_streams(
    shared_engine: Engine, in_process: InProcessServer
) -> None:
    engine, server = shared_engine, in_process
    org = make_org(engine)
    revoked = create_token(engine, Role.SUPERVISOR, org.name)
    kept = create_token(engine, Role.SUPERVISOR, org.name).token
    url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
    with Subscriber(url, revoked.token) as doomed, Subscriber(url, kept) as other:
        doomed.wait_for(1)
        other.wait_for(1)
        revoke_token(engine, revoked.info.id)
        ended = time.monotonic()
        doomed.wait_closed(timeout=15)
        took = time.monotonic() - ended
        with httpx.Client(base_url=server.base_url) as client:
            change(client, org, "101", "sip1", 1)
        assert [e.event for e in other.wait_for(2)] == ["snapshot", "agent.login"]
    assert len(doomed.events) == 1  # its snapshot, then nothing
    assert took < 10
    again = httpx.get(url, headers={"Authorization": f"Bearer {revoked.token}"})
    assert again.status_code == 401
