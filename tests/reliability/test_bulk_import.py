"""Issue 11 item 2: the largest import the API accepts does not block other tenants.

A real server imports 100,000 agents (the row cap) in a file just under the 16 MiB body
limit while another organisation's CRM keeps changing its agents' statuses through the
wire; every one of those changes answers OK, 99 % of them in under a second (the bound the
issue states), and none waits for the import (a quarter of its duration at most). The
figures (the import's duration, the other tenant's p50/p99/max) are printed for
docs/reliability.md. On PostgreSQL the same holds, and no lock of the import is held
long enough to be seen.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from agentstatus.app import open_database
from agentstatus.http.api.limits import CSV_LIMIT
from agentstatus.service.csv_rows import MAX_ROWS
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.batches import BATCH_ROWS
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, organisations, presence
from tests.support.compat import SET_STATUS
from tests.support.factories import make_org
from tests.support.server import ServerProcess

HEADER = "user_id,name\n"


def largest_csv() -> bytes:
    """MAX_ROWS rows, each as long as the body limit allows (ids of 40 characters)."""
    line = (CSV_LIMIT - len(HEADER)) // MAX_ROWS  # with its newline
    name_length = line - 1 - 40 - 1
    rows = [f"{i:040d},{'N' * name_length}\n" for i in range(MAX_ROWS)]
    body = (HEADER + "".join(rows)).encode()
    assert len(body) <= CSV_LIMIT < len(body) + MAX_ROWS  # a byte more a row: too large
    return body


class OtherTenant:
    """A CRM of another organisation logging its agents in and out, one request after
    another on each of its threads, timing every answer."""

    def __init__(self, base_url: str, code: str, users: list[str], sips: list[str]) -> None:
        self.base_url = base_url
        self.code = code
        self.pairs = list(zip(users, sips, strict=True))
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(p,)) for p in self.pairs]
        self._lock = threading.Lock()

    def _run(self, pair: tuple[str, str]) -> None:
        user, sip = pair
        status = 1
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._stop.is_set():
                query = {"Code": self.code, "UserId": user, "ExtensionUser": sip, "Status": status}
                started = time.perf_counter()
                try:
                    answer = client.get(SET_STATUS, params=query)
                    ok = answer.json().get("StatusErroMessage") == "OK"
                    detail = answer.text
                except httpx.HTTPError as exc:
                    ok, detail = False, repr(exc)
                took = time.perf_counter() - started
                with self._lock:
                    self.latencies.append(took)
                    if not ok:
                        self.failures.append(detail)
                status = 2 if status == 1 else 1

    def __enter__(self) -> OtherTenant:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def percentile_99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def figures(latencies: list[float]) -> str:
    return (
        f"{len(latencies)} changes, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile_99(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


def _count_agents(engine: Engine, org: str) -> tuple[int, int]:
    with reading(engine) as conn:
        oid = conn.execute(
            select(organisations.c.id).where(organisations.c.name == org)
        ).scalar_one()
        n_agents = conn.execute(
            select(func.count()).select_from(agents).where(agents.c.org_id == oid)
        ).scalar_one()
        n_presence = conn.execute(
            select(func.count()).select_from(presence).where(presence.c.org_id == oid)
        ).scalar_one()
    return n_agents, n_presence


def test_the_largest_import_leaves_other_tenants_answering_ok_within_a_second(
    any_database_url: str, tmp_path: Path
) -> None:
    engine = open_database(any_database_url)
    try:
        importer = make_org(engine, agent_count=0, extension_count=0)
        other = make_org(engine, agent_count=4, extension_count=4)
        token = create_token(engine, Role.ADMIN, importer.name).token
        body = largest_csv()
        with ServerProcess(any_database_url, tmp_path / "server.log") as server:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
            url = f"{server.base_url}/api/v1/orgs/{importer.name}/agents/import"
            with OtherTenant(server.base_url, other.code, other.agents, other.extensions) as crm:
                time.sleep(0.5)  # the other tenant is already busy when the import starts
                before = len(crm.latencies)
                started = time.perf_counter()
                answer = httpx.post(url, content=body, headers=headers, timeout=300)
                took = time.perf_counter() - started
                during = crm.latencies[before:]
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"created": MAX_ROWS, "updated": 0}
            seen = figures(during)
            engine_name = any_database_url.split(":")[0]
            print(
                f"\n{engine_name}: import of {MAX_ROWS} rows ({len(body)} bytes) took "
                f"{took:.2f} s; other tenant during it: {seen}"
            )
            assert crm.failures == []
            assert len(during) > 10, "the other tenant was not served during the import"
            # The bound holds for the changes at large (p99); a single change may
            # stall longer when the machine is starved (CI's two cores run four test
            # workers: once 2.2 s of a 61 s import), but none waits for the import itself,
            # as one behind a lock of it would (the "before" row of docs/reliability.md:
            # 10 s of a 22 s import).
            assert percentile_99(during) < 1.0, seen
            assert max(during) < took / 4, seen
        assert _count_agents(engine, importer.name) == (MAX_ROWS, MAX_ROWS)
    finally:
        engine.dispose()


def test_an_import_killed_part_way_keeps_whole_batches_and_finishes_when_run_again(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """The process dies between batches or inside one: what was committed is whole
    batches, and importing the same file again finishes it (the rows already there are
    counted as updated)."""
    org = make_org(engine, agent_count=0, extension_count=0)
    path = tmp_path / "agents.csv"
    path.write_bytes(largest_csv())
    command = [sys.executable, "-m", "agentstatus", "--database", database_url]
    importing = subprocess.Popen([*command, "agent", "import", org.name, str(path)])
    try:
        deadline = time.monotonic() + 120
        while _count_agents(engine, org.name)[0] < 3 * BATCH_ROWS:
            assert importing.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        importing.send_signal(signal.SIGKILL)
    finally:
        importing.wait(30)
    written, with_presence = _count_agents(engine, org.name)
    assert written == with_presence  # an agent is never without its presence row
    assert written % BATCH_ROWS == 0
    assert 0 < written < MAX_ROWS
    again = subprocess.run(
        [*command, "agent", "import", org.name, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert f"{MAX_ROWS - written} created, {written} updated" in again.stdout
    assert _count_agents(engine, org.name) == (MAX_ROWS, MAX_ROWS)
