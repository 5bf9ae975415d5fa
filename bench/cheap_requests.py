"""Cheap requests that caused large work (issue 21, item 27), measured: the server's CPU
time and another tenant's ``SetStatusFromAPI`` latencies while

- ``resume``: 16 panel links of one agent resume with ``Last-Event-ID: 0`` in an
  organisation whose history holds ``--history`` events of other agents;
- ``limit``: a warning limit is set on a status ``--agents`` agents have been in for an
  hour (every one of them is due at once), until every warning is written.

    python -m bench.cheap_requests resume|limit [--src /work/main/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, insert, select, update
from tests.support.server import free_port

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import WARN_POLICY
from agentstatus.service import agents as agent_service
from agentstatus.service import extensions as extension_service
from agentstatus.service.organisations import create_organisation, org_id
from agentstatus.service.panel_links import create_link
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.schema import agents, history, presence
from bench.board_stall import big_org, summary

HOUR_MS = 3600 * 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(url: str, src: str | None, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **({"PYTHONPATH": src} if src else {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "agentstatus", "--database", url, "serve", "--port", str(port)],
        stdout=(work / "server.log").open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


class OtherTenant:
    """``SetStatusFromAPI`` one after another, from a thread, until stopped."""

    def __init__(self, base: str, code: str) -> None:
        self.base, self.code = base, code
        self.latencies: list[float] = []
        self.not_ok = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        status = 1
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    answer = client.get(
                        "/UserLogin/SetStatusFromAPI",
                        params={
                            "Code": self.code,
                            "UserId": "s1",
                            "ExtensionUser": "sip1",
                            "Status": status,
                        },
                    )
                    self.not_ok += b'"OK"' not in answer.content
                except httpx.HTTPError:
                    self.not_ok += 1
                self.latencies.append(time.monotonic() - started)
                status = 3 if status == 1 else 1

    def __enter__(self) -> OtherTenant:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def prepare_resume(url: str, size: int) -> tuple[list[str], str]:
    engine = open_database(url)
    code = big_org(engine, "big", 2)
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, "big")
        other = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == "a2")
        ).scalar_one()
        for start in range(0, size, 50_000):
            conn.execute(
                insert(history),
                [
                    {
                        "org_id": oid,
                        "agent_id": other,
                        "user_id": "a2",
                        "prev_status": 1,
                        "new_status": 3,
                        "at_ms": at - size + i,
                        "source": "GET",
                        "kind": "agent.status",
                    }
                    for i in range(start, min(size, start + 50_000))
                ],
            )
    links = [create_link(engine, "big", "a1", "e1").token for _ in range(16)]
    engine.dispose()
    return links, code


def resume(base: str, pid: int, links: list[str], code: str) -> dict[str, object]:
    before = cpu_seconds(pid)
    started = time.monotonic()
    opened = threading.Barrier(len(links) + 1)

    def stream(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": "0"}
        timeout = httpx.Timeout(300, read=300)
        with httpx.stream(
            "GET", f"{base}/panel/big/api/events", headers=headers, timeout=timeout
        ) as answer:
            opened.wait()
            for line in answer.iter_lines():  # after the catch-up: the change made below
                if line.startswith("event: agent."):
                    return

    threads = [threading.Thread(target=stream, args=(t,)) for t in links]
    for thread in threads:
        thread.start()
    opened.wait()
    params: dict[str, str | int] = {
        "Code": code,
        "UserId": "a1",
        "ExtensionUser": "e1",
        "Status": 1,
    }
    assert b'"OK"' in httpx.get(f"{base}/UserLogin/SetStatusFromAPI", params=params).content
    for thread in threads:
        thread.join()
    return {
        "streams": len(links),
        "seconds": round(time.monotonic() - started, 2),
        "server_cpu_seconds": round(cpu_seconds(pid) - before, 2),
    }


def prepare_limit(url: str, size: int) -> str:
    engine = open_database(url)
    big_org(engine, "big", size)
    with engine.begin() as conn:
        oid = org_id(conn, "big")
        conn.execute(
            update(presence)
            .where(presence.c.org_id == oid)
            .values(status=3, since_ms=now_ms() - HOUR_MS)
        )
    token = create_token(engine, Role.ADMIN).token
    engine.dispose()
    return token


def limit(url: str, base: str, pid: int, size: int, token: str) -> dict[str, object]:
    # Not open_database: the server under test (--src) may have migrated the file further.
    engine = create_engine(url)
    before = cpu_seconds(pid)
    started = time.monotonic()
    answer = httpx.put(
        f"{base}/api/v1/orgs/big/statuses/3/limit",
        json={"seconds": 600, "then": "warn"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    written = 0
    while written < size and time.monotonic() - started < 600:
        time.sleep(0.5)
        with engine.connect() as conn:
            written = conn.execute(
                select(func.count()).select_from(history).where(history.c.policy == WARN_POLICY)
            ).scalar_one()
    engine.dispose()
    return {
        "agents": size,
        "warnings": written,
        "seconds": round(time.monotonic() - started, 2),
        "server_cpu_seconds": round(cpu_seconds(pid) - before, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["resume", "limit"])
    parser.add_argument("--src", default=None)
    parser.add_argument("--history", type=int, default=300_000)
    parser.add_argument("--agents", type=int, default=20_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cheap-requests-"))
    url = f"sqlite:///{work / 'agentstatus.db'}"
    engine = open_database(url)
    small = create_organisation(engine, "small")
    agent_service.add_agent(engine, "small", "s1", "Small one")
    extension_service.add_extension(engine, "small", "sip1", "")
    engine.dispose()
    if args.scenario == "resume":
        links, code = prepare_resume(url, args.history)
    else:
        token = prepare_limit(url, args.agents)
    server, base = start(url, args.src, work)
    assert server.pid
    try:
        with OtherTenant(base, small.code) as tenant:
            time.sleep(1.0)
            quiet = len(tenant.latencies)
            if args.scenario == "resume":
                figures = resume(base, server.pid, links, code)
            else:
                figures = limit(url, base, server.pid, args.agents, token)
        busy = tenant.latencies[quiet:]
    finally:
        server.terminate()
        server.wait(10)
    print(
        json.dumps(
            {
                "scenario": args.scenario,
                "src": args.src or "this checkout",
                **figures,
                "other_tenant_quiet": summary(tenant.latencies[:quiet]),
                "other_tenant_during": summary(busy),
                "other_tenant_not_ok": tenant.not_ok,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
