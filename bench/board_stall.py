"""Does one large organisation's board stall every tenant? (issue 21, item 25)

A server on a fresh database with one organisation of ``--agents`` agents (everybody
logged out, as the services leave them) and a small one. While ``--loads`` supervisors
open the large board at once (each reads the whole page; with ``--every-page`` every page
of a paginated board), another tenant sends ``SetStatusFromAPI`` one after another and a
monitor asks ``/healthz`` every 50 ms. Printed: the other tenant's latencies, the health
check's, and the board loads' times, sizes and statuses.

    python -m bench.board_stall                      # this checkout, SQLite
    python -m bench.board_stall --src /work/main/src # another checkout's code
    python -m bench.board_stall --database postgresql://…

``--src`` puts that source tree first on the server's PYTHONPATH (the database is made by
this checkout's code; the schema must be the same).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, insert, select
from tests.support.server import free_port

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.service import agents as agent_service
from agentstatus.service import extensions as extension_service
from agentstatus.service.organisations import create_organisation, org_id
from agentstatus.service.tokens import Role
from agentstatus.service.users import add_user
from agentstatus.storage.schema import agents, extensions, presence

PASSWORD = "bench board password"  # noqa: S105 (a throwaway user of a throwaway database)
SAME_ORIGIN = {"sec-fetch-site": "same-origin"}


def big_org(engine: Engine, name: str, size: int) -> str:
    """``size`` agents ``a1``… and extensions ``e0``…, everybody logged out; its Code."""
    code = create_organisation(engine, name).code
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, name)
        users = [f"a{i}" for i in range(1, size + 1)]
        conn.execute(
            insert(agents),
            [
                {
                    "org_id": oid,
                    "user_id": u,
                    "name": f"Agent {u}",
                    "active": True,
                    "created_ms": at,
                }
                for u in users
            ],
        )
        conn.execute(
            insert(extensions),
            [{"org_id": oid, "sip": f"e{i}", "name": "", "created_ms": at} for i in range(size)],
        )
        ids = conn.execute(select(agents.c.id).where(agents.c.org_id == oid)).scalars().all()
        conn.execute(
            insert(presence),
            [
                {
                    "agent_id": a,
                    "org_id": oid,
                    "extension_id": None,
                    "status": LOGOUT,
                    "since_ms": at,
                }
                for a in ids
            ],
        )
    return code


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.50) * 1000, 1),
        "p99_ms": round(pick(0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def load_board(
    base: str, cookies: httpx.Cookies, org: str, out: list[dict[str, object]], every_page: bool
) -> None:
    """One supervisor: the board (and with ``every_page`` each further page it links to)."""
    started = time.monotonic()
    size, statuses, pages = 0, [], 0
    url: str | None = f"/o/{org}/"
    with httpx.Client(base_url=base, cookies=cookies, timeout=300) as client:
        while url is not None:
            try:
                answer = client.get(url)
            except httpx.HTTPError:
                statuses.append(0)
                break
            pages += 1
            size += len(answer.content)
            statuses.append(answer.status_code)
            found = re.search(r'<a[^>]*rel="next"[^>]*href="([^"]+)"', answer.text) or re.search(
                r'<a[^>]*href="([^"]+)"[^>]*rel="next"', answer.text
            )
            more = every_page and answer.status_code == 200
            url = found.group(1).replace("&amp;", "&") if found and more else None
    out.append(
        {"seconds": time.monotonic() - started, "bytes": size, "pages": pages, "statuses": statuses}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50_000)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--database", default=None, help="default: a new SQLite file")
    parser.add_argument("--src", default=None, help="the server's source tree (PYTHONPATH)")
    parser.add_argument(
        "--every-page", action="store_true", help="read every page of a paged board"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="board-stall-"))
    url = args.database or f"sqlite:///{work / 'agentstatus.db'}"
    engine = open_database(url)
    big_org(engine, "big", args.agents)
    small = create_organisation(engine, "small")
    agent_service.add_agent(engine, "small", "s1", "Small one")
    extension_service.add_extension(engine, "small", "sip1", "")
    add_user(engine, "sup@example.com", Role.SUPERVISOR, PASSWORD, "big", "Sup")
    engine.dispose()
    port = free_port()
    env = {**os.environ}
    if args.src:
        env["PYTHONPATH"] = args.src
    log = (work / "server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "agentstatus", "--database", url, "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as signing:
            answer = signing.post(
                "/sign-in",
                data={"email": "sup@example.com", "password": PASSWORD, "next": "/"},
                headers=SAME_ORIGIN,
            )
            assert answer.status_code == 303, answer.text
            cookies = signing.cookies
        figures = measure(base, cookies, small.code, args.loads, args.every_page)
    finally:
        server.terminate()
        server.wait(10)
    print(
        json.dumps(
            {
                "agents": args.agents,
                "loads": args.loads,
                "database": url.split(":")[0],
                "src": args.src or "this checkout",
                **figures,
            },
            indent=2,
        )
    )


def measure(
    base: str, cookies: httpx.Cookies, code: str, loads: int, every_page: bool
) -> dict[str, object]:
    done = threading.Event()
    wire: list[float] = []
    wire_failed: list[int] = []
    health: list[float] = []
    health_failed: list[int] = []

    def other_tenant() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            status = 1
            while not done.is_set():
                started = time.monotonic()
                answer = client.get(
                    "/UserLogin/SetStatusFromAPI",
                    params={
                        "Code": code,
                        "UserId": "s1",
                        "ExtensionUser": "sip1",
                        "Status": status,
                    },
                )
                wire.append(time.monotonic() - started)
                if b'"OK"' not in answer.content:
                    wire_failed.append(answer.status_code)
                status = 3 if status == 1 else 1

    def monitor() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while not done.is_set():
                started = time.monotonic()
                try:
                    client.get("/healthz")
                except httpx.HTTPError:
                    health_failed.append(0)
                health.append(time.monotonic() - started)
                time.sleep(0.05)

    background = [threading.Thread(target=other_tenant), threading.Thread(target=monitor)]
    for thread in background:
        thread.start()
    time.sleep(1.0)  # the quiet baseline
    quiet_wire, quiet_health = list(wire), list(health)
    boards: list[dict[str, object]] = []
    started = time.monotonic()
    loaders = [
        threading.Thread(target=load_board, args=(base, cookies, "big", boards, every_page))
        for _ in range(loads)
    ]
    for thread in loaders:
        thread.start()
    for thread in loaders:
        thread.join()
    during = time.monotonic() - started
    done.set()
    for thread in background:
        thread.join()
    busy_wire, busy_health = wire[len(quiet_wire) :], health[len(quiet_health) :]
    return {
        "boards_seconds": round(during, 2),
        "board_loads": [
            {**b, "seconds": round(float(b["seconds"]), 2)}  # type: ignore[arg-type]
            for b in boards
        ],
        "other_tenant_quiet": summary(quiet_wire),
        "other_tenant_during_boards": summary(busy_wire),
        "other_tenant_not_ok": len(wire_failed),
        "healthz_quiet": summary(quiet_health),
        "healthz_during_boards": summary(busy_health),
        "healthz_failed": len(health_failed),
    }


if __name__ == "__main__":
    main()
