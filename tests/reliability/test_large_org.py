"""A large organisation's event streams: what eight supervisors that connect and never
read cost the server (issue 11 item 4; before the fix, 1.1 GiB at 200,000 agents).

``make test`` runs it at 20,000 agents, ``make soak`` at 200,000 (or
``AGENTSTATUS_LARGE_ORG_AGENTS``). Figures: the snapshot's size and the time a reading
client takes to get it, the server's RSS (``/proc/<pid>/status``) before the streams, at
its peak while they are open, and after the server has closed them.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.tokens import Role, create_token
from tests.reliability.figures import record, size
from tests.support.bulk import make_big_org
from tests.support.server import ServerProcess

AGENTS = size("large_org_agents", 20_000, 200_000)
STREAMS = 8
MIB = 1024 * 1024


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'agentstatus.db'}")
    yield engine
    engine.dispose()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def non_reading_stream(port: int, org: str, token: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /api/v1/orgs/{org}/events HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


def closed_by_server(sock: socket.socket, timeout: float = 30.0) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 20):
            pass
    except TimeoutError:
        return False
    return True


def test_streams_that_do_not_read_cost_a_bounded_amount_of_memory(
    engine: Engine, tmp_path: Path
) -> None:
    org = make_big_org(engine, AGENTS)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    url = f"/api/v1/orgs/{org.name}/events"
    with ServerProcess(str(engine.url), tmp_path / "server.log") as server:
        assert server.process is not None
        pid = server.process.pid
        idle = rss_bytes(pid)
        started = time.monotonic()
        snapshot = bytearray()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", server.base_url + url, headers=headers, timeout=60) as answer:
            for chunk in answer.iter_raw():
                snapshot += chunk
                if b"\nretry: " in snapshot[-64:]:
                    break
        seconds = time.monotonic() - started
        assert snapshot.startswith(b"event: snapshot\n")
        assert snapshot.count(b'"user_id"') == AGENTS
        time.sleep(1.5)  # past the snapshot's reuse: the streams below get a new one
        before = rss_bytes(pid)
        peak = before
        streams = []
        # Half at once (they share one snapshot), half 1.2 s apart (one snapshot each,
        # unless it is still being read): the stalled ones are closed after 2 s.
        for index in range(STREAMS):
            streams.append(non_reading_stream(server.port, org.name, token))
            if index >= STREAMS // 2:
                deadline = time.monotonic() + 1.2
                while time.monotonic() < deadline:
                    peak = max(peak, rss_bytes(pid))
                    time.sleep(0.05)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            peak = max(peak, rss_bytes(pid))
            time.sleep(0.05)
        assert all(closed_by_server(s) for s in streams)
        for sock in streams:
            sock.close()
        after = rss_bytes(pid)
    figures = {
        "agents": AGENTS,
        "snapshot_bytes": len(snapshot) - len(b"retry: 1000\n\n"),
        "snapshot_seconds": round(seconds, 2),
        "rss_idle_mib": round(idle / MIB, 1),
        "rss_before_mib": round(before / MIB, 1),
        "rss_peak_mib": round(peak / MIB, 1),
        "rss_after_mib": round(after / MIB, 1),
        "growth_per_stream_mib": round((peak - before) / STREAMS / MIB, 1),
    }
    record("large_org_streams", **figures)
    # Generous: a few snapshots alive at once, and the interpreter's own growth. Before,
    # every stream connecting apart held a snapshot of its own, as long as it was open.
    assert peak - before < 3 * len(snapshot) + 48 * MIB, figures
