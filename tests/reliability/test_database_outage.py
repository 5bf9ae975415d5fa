"""A PostgreSQL outage in the middle of load: bounded answers, no half-applied change,
and recovery without a restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from agentstatus.service import presence
from agentstatus.storage.migrate import open_database
from tests.reliability.figures import record
from tests.support.factories import make_org
from tests.support.history import all_history
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess
from tests.support.tcp_proxy import TcpProxy

TIMEOUT = 2.0


def test_outage_answers_row_11_in_bounded_time_and_recovers(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    direct_url = postgres_databases.create()
    direct = make_url(direct_url)
    engine = open_database(direct_url)
    org = make_org(engine, agent_count=20, extension_count=20)
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = {"AGENTSTATUS_DATABASE_TIMEOUT_SECONDS": str(TIMEOUT)}
    answers: list[tuple[float, float, int, dict[str, object]]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            step = 0
            while not stop.is_set():
                user = org.agents[worker]
                status = (1, 3, 1, 5)[step % 4]
                started = time.monotonic()
                answer = client.get(
                    "/UserLogin/SetStatusFromAPI",
                    params={
                        "Code": org.code,
                        "UserId": user,
                        "ExtensionUser": org.extensions[worker],
                        "Status": status,
                    },
                )
                answers.append((started, time.monotonic(), answer.status_code, answer.json()))
                step += 1

    with ServerProcess(proxied, tmp_path / "server.log", env=env) as server:
        workers = [threading.Thread(target=load, args=(i,)) for i in range(8)]
        for w in workers:
            w.start()
        time.sleep(1.5)
        cut_at = time.monotonic()
        proxy.cut()
        time.sleep(TIMEOUT * 2)
        ready = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert ready.status_code == 503
        proxy.restore()
        restored_at = time.monotonic()
        recovered_at = None
        while time.monotonic() - restored_at < 30:
            recent = [a for a in answers if a[0] > restored_at and a[2] == 200]
            if recent:
                recovered_at = min(a[1] for a in recent)
                break
            time.sleep(0.05)
        time.sleep(0.5)
        stop.set()
        for w in workers:
            w.join(30)
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    proxy.close()

    during = [a for a in answers if a[0] >= cut_at + 0.1 and a[1] <= restored_at]
    assert during, "no request was answered during the outage"
    for started, ended, status, body in during:
        assert status == 503
        assert body == {"Status": 0, "StatusError": 4, "StatusErroMessage": "Error on update"}
        assert ended - started < TIMEOUT + 1.5  # bounded: the timeout, plus scheduling slack
    assert recovered_at is not None, "service did not resume after the proxy came back"
    recovery = recovered_at - restored_at
    slowest = max(ended - started for started, ended, _status, _body in during)
    record(
        "database_outage",
        row11_answers=len(during),
        slowest_answer_s=round(slowest, 2),
        timeout_s=TIMEOUT,
        recovery_s=round(recovery, 2),
    )
    assert recovery < 10

    # Nothing half-applied: every agent's presence is exactly where its history leads.
    events = all_history(engine, org.name)
    last: dict[str, tuple[str | None, int]] = {}
    for e in events:
        assert last.get(e.user_id, (None, 2)) == (e.prev_extension, e.prev_status)
        last[e.user_id] = (e.new_extension, e.new_status)
    for p in presence.list_presence(engine, org.name):
        assert last.get(p.user_id, (None, 2)) == (p.extension, p.status)
    engine.dispose()
