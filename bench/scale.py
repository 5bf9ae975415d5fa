"""Scale: reports over a big history, and the server's resident memory.

A database of ``agents`` agents and ``rows`` history events over 30 days; timed:

- ``agentstatus.service.reports.time_in_status`` for ``report_agents`` agents (spread over
  the organisation) over the last day (target: under 1 s);
- ``agentstatus.service.history.read_history`` of one agent over the last week (target:
  under 50 ms);

each called in a new Python process (so it runs the code as it is now, from a cold start),
once cold (the first call) and then repeated (the median is reported). Then
``agentstatus serve`` is started on that database and its resident memory is read after
start-up, and again after it has answered the same report and history through the HTTP
API and run the mix over all the agents for a while.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentstatus.service.history import read_history
from agentstatus.service.reports import time_in_status
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.migrate import open_database
from bench.dataset import DAY_MS, ORG, USER_BASE, build_postgres, build_sqlite
from bench.harness import agentstatus_server, run_mix, start_all


def _timed(call: Callable[[], Any], repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = call()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        warm.append(time.perf_counter() - started)
    return {"cold_ms": cold * 1000, "warm_ms": statistics.median(warm) * 1000, "result": result}


def _http_get(url: str, token: str) -> tuple[float, int, int]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
        body = answer.read()
        status = answer.status
    return (time.perf_counter() - started) * 1000, status, len(body)


def time_reports(url: str, agents: int, report_agents: int, repeats: int) -> dict[str, Any]:
    engine = open_database(url)
    try:
        now = int(time.time() * 1000)
        stride = max(agents // report_agents, 1)
        users = [str(USER_BASE + 1 + i * stride) for i in range(report_agents)]
        one = users[len(users) // 2]
        report = _timed(lambda: len(time_in_status(engine, ORG, now - DAY_MS, now, users)), repeats)
        history = _timed(
            lambda: len(
                read_history(
                    engine, ORG, user_id=one, start_ms=now - 7 * DAY_MS, end_ms=now, limit=1000
                ).events
            ),
            max(repeats, 5),
        )
        token = create_token(engine, Role.ADMIN, label="bench").token
    finally:
        engine.dispose()
    return {
        "report_agents": report_agents,
        "report_cold_ms": report["cold_ms"],
        "report_ms": report["warm_ms"],
        "report_rows": report["result"],
        "history_user": one,
        "history_cold_ms": history["cold_ms"],
        "history_ms": history["warm_ms"],
        "history_events": history["result"],
        "users": users,
        "token": token,
        "now_ms": now,
    }


def time_reports_in_new_process(
    url: str, agents: int, report_agents: int, repeats: int
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.scale", url, str(agents), str(report_agents)]
    done = subprocess.run(
        [*argv, str(repeats)], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_scale(
    workdir: Path,
    *,
    agents: int,
    rows: int,
    report_agents: int,
    repeats: int,
    mix_seconds: float,
    connections: int,
) -> dict[str, Any]:
    path = workdir / "scale.db"
    started = time.perf_counter()
    build_sqlite(path, agents, rows)
    built = time.perf_counter() - started
    url = f"sqlite:///{path}"
    out: dict[str, Any] = {
        "engine": "sqlite",
        "agents": agents,
        "history_rows": rows,
        "build_s": built,
        "db_mib": path.stat().st_size / 2**20,
    }
    timings = time_reports_in_new_process(url, agents, report_agents, repeats)
    users, token, now = timings.pop("users"), timings.pop("token"), timings.pop("now_ms")
    out.update(timings)

    server = agentstatus_server("scale-agentstatus", url, workdir)
    start_all([server])
    try:
        out["rss_started_mib"] = server.memory_kib()["VmRSS"] / 1024
        day = urllib.parse.urlencode(
            [("from", _iso(now - DAY_MS)), ("to", _iso(now)), *(("user_id", u) for u in users)]
        )
        report_ms, status, size = _http_get(
            f"{server.url}/api/v1/orgs/{ORG}/reports/time-in-status?{day}", token
        )
        out["http_report_ms"], out["http_report_status"], out["http_report_bytes"] = (
            report_ms,
            status,
            size,
        )
        week = urllib.parse.urlencode(
            {"from": _iso(now - 7 * DAY_MS), "to": _iso(now), "user_id": timings["history_user"]}
        )
        history_ms, status, _ = _http_get(f"{server.url}/api/v1/orgs/{ORG}/history?{week}", token)
        out["http_history_ms"], out["http_history_status"] = history_ms, status
        mix = run_mix([server], mix_seconds, connections, agents)
        out["mix_rps"], out["mix_non_ok"] = mix["rps"], mix["non_ok_total"]
        out["mix_p99_ms"] = mix["p99_us"] / 1000
        memory = server.memory_kib()
        out["rss_after_mib"] = memory["VmRSS"] / 1024
        out["rss_peak_mib"] = memory["VmHWM"] / 1024
    finally:
        server.stop()
    return out


def run_scale_postgres(
    url: str, *, agents: int, rows: int, report_agents: int, repeats: int
) -> dict[str, Any]:
    """The same timings on PostgreSQL (no server part)."""
    started = time.perf_counter()
    build_postgres(url, agents, rows)
    out: dict[str, Any] = {
        "engine": "postgresql",
        "agents": agents,
        "history_rows": rows,
        "build_s": time.perf_counter() - started,
    }
    timings = time_reports_in_new_process(url, agents, report_agents, repeats)
    for key in ("users", "token", "now_ms"):
        timings.pop(key)
    out.update(timings)
    return out


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


if __name__ == "__main__":
    # python -m bench.scale URL AGENTS REPORT_AGENTS REPEATS: the timings, as JSON
    url_arg, agents_arg, report_arg, repeats_arg = sys.argv[1:]
    print(json.dumps(time_reports(url_arg, int(agents_arg), int(report_arg), int(repeats_arg))))
