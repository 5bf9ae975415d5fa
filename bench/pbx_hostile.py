"""A hostile phone system against one server (issue 21, item 24): what it costs the server's
memory and another tenant's status changes.

One SQLite database, two organisations of the test factories; agent 101 of the first is
logged in at sip1 (so its calls and pauses are written). The first organisation's phone
system is then pointed at a hostile AMI server (``tests/support/hostile_ami.py``) in each
mode in turn: a ``QueueStatus`` that never completes, 450 lines of 1 MiB, a flood of call
events, a flood of pauses. Meanwhile the second organisation sets statuses through
``SetStatusFromAPI`` (``rate`` a second, one at a time). Reported per mode: the server's
resident memory before and at its peak, the other tenant's latencies before and during,
the history rows the first organisation gained after the hostile server was gone, and the
connection's last error (``pbx show``).

``python -m bench.pbx_hostile [--seconds S]``; run it with ``PYTHONPATH=<a checkout>/src``
to measure another version of agentstatus (the figures of issue 21 are before and after).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from tests.support.factories import make_org
from tests.support.hostile_ami import MODES, HostileAmi
from tests.support.pbx import PBX_ENV, PBX_KEY
from tests.support.receiver import LOOPBACK

from agentstatus.domain.pbx_config import make_config
from agentstatus.service import pbx_settings
from agentstatus.storage.key_file import secret_box_for
from agentstatus.storage.migrate import open_database
from agentstatus.storage.schema import history
from bench.harness import agentstatus_server


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return f"{at(0.5):.1f} / {at(0.9):.1f} / {at(0.99):.1f} / {ordered[-1]:.1f}"


class _Tenant(threading.Thread):
    """The other organisation, changing agent 101's status ``rate`` times a second."""

    def __init__(self, base: str, code: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.base, self.code, self.rate = base, code, rate
        self.latencies: list[float] = []
        self.failures = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.stopped.is_set():
                started = time.monotonic()
                status = (1, 3)[n % 2]
                try:
                    r = client.get(
                        f"{self.base}/UserLogin/SetStatusFromAPI",
                        params={
                            "Code": self.code,
                            "UserId": "101",
                            "ExtensionUser": "sip1",
                            "Status": status,
                        },
                    )
                    ok = r.json().get("StatusErroMessage") == "OK"
                except (httpx.HTTPError, ValueError):
                    ok = False
                took = (time.monotonic() - started) * 1000
                if ok:
                    self.latencies.append(took)
                else:
                    self.failures += 1
                n += 1
                self.stopped.wait(max(0.0, 1 / self.rate - took / 1000))

    def take(self) -> list[float]:
        found, self.latencies = self.latencies, []
        return found


def _rows(engine: Engine, oid: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(history.c.org_id == oid)).scalar_one())


def _org_id(engine: Engine, name: str) -> int:
    from agentstatus.service.organisations import org_id

    with engine.connect() as conn:
        return org_id(conn, name)


def run(seconds: float, rate: float, modes: list[str], max_rss_mib: int = 3072) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-pbx-hostile-"))
    lines = [
        "| mode | RSS before → peak (MiB) | other tenant p50 / p90 / p99 / max (ms),"
        " before | during | A's history rows: during, after the connection was gone"
        " | last error |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        url = f"sqlite:///{workdir / 'hostile.db'}"
        engine = open_database(url)
        hostile_org, other = make_org(engine), make_org(engine)
        oid = _org_id(engine, hostile_org.name)
        # The default command timeout (5 s), as a real deployment has it.
        env = {k: v for k, v in PBX_ENV.items() if k != "AGENTSTATUS_PBX_TIMEOUT_SECONDS"}
        server = agentstatus_server("hostile", url, workdir, env=env)
        server.start()
        try:
            login = httpx.get(
                f"{server.url}/UserLogin/SetStatusFromAPI",
                params={"Code": hostile_org.code, "UserId": "101", "ExtensionUser": "sip1"}
                | {"Status": 1},
            )
            assert login.json()["StatusErroMessage"] == "OK", login.text
            box = secret_box_for(url, PBX_KEY)
            for mode in modes:
                tenant = _Tenant(server.url, other.code, rate)
                tenant.start()
                time.sleep(3)
                before = tenant.take()
                rss_before = server.memory_kib()["VmRSS"]
                rows_before = _rows(engine, oid)
                peak = rss_before
                with HostileAmi(mode) as hostile:
                    config = make_config(
                        "asterisk",
                        "127.0.0.1",
                        port=hostile.port,
                        queues=["support"],
                        username="agentstatus",
                    )
                    pbx_settings.set_pbx(
                        engine, box, hostile_org.name, config, "x-secret", outbound=LOOPBACK
                    )
                    deadline = time.monotonic() + seconds
                    while time.monotonic() < deadline:
                        peak = max(peak, server.memory_kib()["VmRSS"])
                        if peak > max_rss_mib * 1024:  # a shared machine: stop there
                            break
                        time.sleep(0.1)
                    took = seconds - max(0.0, deadline - time.monotonic())
                    during = tenant.take()
                # The hostile server is gone (its connections closed): what the backlog it
                # left still writes.
                gone = _rows(engine, oid)
                during_rows = gone - rows_before
                time.sleep(3)
                after = _rows(engine, oid) - gone
                pbx_settings.remove_pbx(engine, hostile_org.name)
                tenant.stopped.set()
                tenant.join()
                log = (workdir / "s.log").read_text(errors="replace").splitlines()
                warned = [
                    line
                    for line in log
                    if "pbx of organisation" in line
                    and "WARN" in line
                    and "cannot connect" not in line
                ]
                state_error = warned[-1].split(": ", 2)[-1][:120] if warned else "-"
                lines.append(
                    f"| {mode} ({took:.1f} s) | {rss_before / 1024:.0f} → {peak / 1024:.0f} |"
                    f" {_percentiles(before)} | {_percentiles(during)}"
                    f" ({tenant.failures} failed) | {during_rows} | {after} | {state_error} |"
                )
                print(lines[-1], file=sys.stderr, flush=True)
        finally:
            server.stop()
            engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each attack's length")
    parser.add_argument("--rate", type=float, default=20.0, help="the other tenant's changes/s")
    parser.add_argument("--mode", action="append", choices=MODES, help="default: every mode")
    parser.add_argument(
        "--max-rss-mib", type=int, default=3072, help="end an attack early past this RSS"
    )
    args = parser.parse_args(argv)
    print("\n".join(run(args.seconds, args.rate, args.mode or list(MODES), args.max_rss_mib)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
