"""What a hostile FreeSWITCH event socket costs the server (issue 21, item 24).

One organisation's phone system is a loopback event socket (``tests/support/esl_server.py``)
that, once agentstatus subscribes, floods it with events that each mean work: an agent's
status changed at the phone (On Break, Available: the recorded ``agent-status-change`` of a
real FreeSWITCH) and a call to a logged-in extension starting and ending (the recorded
``CHANNEL_CREATE``/``CHANNEL_HANGUP_COMPLETE`` of an agent's leg). It floods every new
connection too. Meanwhile another organisation's ``SetStatusFromAPI`` is timed, and the
server process's resident memory is sampled.

Printed: the other tenant's latency (p50/p90/p99/max, ms) before and during the flood; the
server's RSS at the start, its peak, and at the end; history rows written during the flood
and in the seconds after it stopped; and ``pbx show``'s last error.

``python -m bench.esl_flood [--seconds 15] [--bursts 40000]``
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.support.esl_server import EslServer, recorded
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, use_freeswitch, wait_state
from tests.support.server import ServerProcess

from agentstatus.service import pbx_settings
from agentstatus.storage.migrate import open_database

QUEUES = ("support@default",)
STATUS_LINE = 1  # agent-status-change of the recording
AGENT_LEG_CREATE = 44  # CHANNEL_CREATE of sofia/agents/1002@127.0.0.1:5080
AGENT_LEG_HANGUP = 120  # its CHANNEL_HANGUP_COMPLETE


def burst() -> list[dict[str, str]]:
    leg = {"Channel-Name": "sofia/agents/sip1@127.0.0.1:5080"}
    return [
        recorded(STATUS_LINE, {"CC-Agent": "101", "CC-Agent-Status": "On Break"}),
        recorded(STATUS_LINE, {"CC-Agent": "101", "CC-Agent-Status": "Available"}),
        recorded(AGENT_LEG_CREATE, {**leg, "Caller-Channel-Name": leg["Channel-Name"]}),
        recorded(AGENT_LEG_HANGUP, {**leg, "Caller-Channel-Name": leg["Channel-Name"]}),
    ]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def figures(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    return f"n={len(ms)} p50={q[49]:.1f} p90={q[89]:.1f} p99={q[98]:.1f} max={ms[-1]:.1f} ms"


def other_tenant(base_url: str, code: str, seconds: float, rate: float) -> list[float]:
    """SetStatusFromAPI of another organisation at ``rate`` a second: each one's time."""
    found: list[float] = []
    statuses = (1, 3, 1, 11)
    with httpx.Client(timeout=30) as client:
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            started = time.monotonic()
            answer = client.get(
                f"{base_url}/UserLogin/SetStatusFromAPI",
                params={
                    "Code": code,
                    "UserId": "101",
                    "ExtensionUser": "sip1",
                    "Status": statuses[i % len(statuses)],
                },
            )
            found.append(time.monotonic() - started)
            assert answer.json()["StatusErroMessage"] == "OK", answer.text
            i += 1
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    return found


def history_rows(engine: object, oid_name: str) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM history h JOIN organisations o ON o.id = h.org_id"
                    " WHERE o.name = :n"
                ),
                {"n": oid_name},
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--bursts", type=int, default=40_000)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="esl-flood-"))
    url = f"sqlite:///{work / 'agentstatus.db'}"
    engine = open_database(url)
    victim = make_org(engine, name="hostile")
    other = make_org(engine, name="other")
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, url, victim.name, esl, QUEUES)
        # The installed script, executed as a user starts it (the tests' default command
        # is forked from a process that has imported the service: tests/support/forked.py).
        script = (str(Path(sys.executable).parent / "agentstatus"),)
        with ServerProcess(url, work / "server.log", env=PBX_ENV, command=script) as server:
            assert server.process is not None
            pid = server.process.pid
            wait_state(engine, victim.name, lambda s: s.connected and s.reconcile_ms is not None)
            httpx.get(
                f"{server.base_url}/UserLogin/SetStatusFromAPI",
                params={"Code": victim.code, "UserId": "101", "ExtensionUser": "sip1", "Status": 1},
            )
            esl.wait_for(lambda: "101" in esl.agents(), what="agent 101 seated")
            # The other tenant is timed from its own process: the flooding server's thread
            # here must not hold the clock's interpreter lock.
            pool = multiprocessing.get_context("spawn").Pool(1)
            tenant = (server.base_url, other.code)
            before = pool.apply(other_tenant, (*tenant, 5, args.rate))
            start_rss = rss_mib(pid)
            peak = [start_rss]
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.is_set():
                    peak[0] = max(peak[0], rss_mib(pid))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            rows_before = history_rows(engine, victim.name)
            esl.flood(burst(), args.bursts, every_connection=True)
            during = pool.apply(other_tenant, (*tenant, args.seconds, args.rate))
            pool.close()
            esl.stop_flood()
            esl.drop_connections()
            rows_flood = history_rows(engine, victim.name) - rows_before
            time.sleep(3)  # a measurement window, not a wait for a condition
            rows_after = history_rows(engine, victim.name) - rows_before - rows_flood
            sampling.set()
            sampler.join()
            state = pbx_settings.pbx_state(engine, victim.name)
            print(f"other tenant before the flood: {figures(before)}")
            print(f"other tenant during the flood: {figures(during)}")
            print(
                f"server RSS: start {start_rss:.0f} MiB, peak {peak[0]:.0f} MiB "
                f"(+{peak[0] - start_rss:.0f}), end {rss_mib(pid):.0f} MiB"
            )
            print(
                f"history rows of the flooding organisation: {rows_flood} during "
                f"{args.seconds:g} s, {rows_after} in the 3 s after the connection was cut"
            )
            print(f"connections accepted: {esl.connections_accepted}")
            print(f"pbx show last error: {state.last_error if state else None}")


if __name__ == "__main__":
    main()
