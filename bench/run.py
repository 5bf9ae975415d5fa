"""The benchmark of issue 5: ``python -m bench.run`` (``make bench``), or ``--smoke``.

Everything runs on loopback, on this machine, bounded in time. Every figure of agentstatus
is compared with references measured in the same run, interleaved with it, on the same
server software (uvicorn, one worker): see ``bench/references.py`` and docs/performance.md.

1. Shift start, on the freshly started servers while every agent is logged out: every
   agent logs in once, 200 concurrent clients; agentstatus and (b).
2. The mix (``bench/mix.lua``, wrk, 50 connections) against, in rotating order each round:
   (a) the HTTP stack's ceiling, (b) the naive durable SQLite writer, (c) the same not
   durable, agentstatus with ``--no-access-log``, agentstatus with the access log (the
   default), and (a) again with wrk's response() check off (what checking costs wrk).
3. PostgreSQL: two agentstatus instances against two reference instances.
4. Scale: reports over 100,000 agents and 10 million history rows; the server's memory.
5. Fan-out (``bench/fanout.py``): thousands of event-stream subscribers of one instance.
6. Browser (``bench/browser.py``): the board of 1,000 agents in Chromium, its render time
   and change-to-screen latency at 50 changes/s; the wall of the same 1,000 agents at
   1920x1080, its render time, change-to-tile latency and the browser's CPU (issue 24).
7. Deadlines (``bench/deadlines.py``): how soon the policies act after their deadlines pass,
   on SQLite and on three PostgreSQL instances, each deadline exactly once.
8. Phone system (``bench/pbx.py``): the time from an OK answer to the command read by a
   loopback Asterisk and FreeSWITCH under a status mix, and a reconcile of thousands of
   members.
9. Wrap-up (``bench/wrap_up.py``): 500 agents with a call every 2 s each through a loopback
   Asterisk, wrap-up 2 s: hang-up to the wrap-up's pause, the wrap-up's end to the unpause,
   every deadline acted on once.

Results: a table on stdout, ``bench/results/last.json`` and the chart
``docs/performance.svg`` (smoke runs write ``bench/results/smoke.*`` instead).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench import browser, chart, deadlines, fanout, pbx, wrap_up
from bench.checks import Check, verdicts
from bench.dataset import build_postgres, build_sqlite
from bench.harness import (
    REPO,
    Server,
    agentstatus_server,
    reference_server,
    run_mix,
    shift_start,
    start_all,
    summarise,
)
from bench.scale import run_scale, run_scale_postgres

RESULTS = REPO / "bench" / "results"
POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_DB = "agentstatus_bench"


@dataclass(frozen=True)
class Plan:
    agents: int = 10_000
    connections: int = 50
    duration: float = 8.0
    warmup: float = 3.0
    repeats: int = 5
    pg_repeats: int = 3
    shift_agents: int = 10_000
    shift_clients: int = 200
    sqlite: bool = True
    postgres: bool = True
    scale: bool = True
    scale_agents: int = 100_000
    scale_rows: int = 10_000_000
    report_agents: int = 1_000
    scale_mix_seconds: float = 10.0
    scale_postgres: bool = False
    fanout: fanout.FanoutPlan | None = fanout.FULL
    """None: skip the fan-out part."""
    browser: browser.BrowserPlan | None = browser.FULL
    """None: skip the browser part."""
    deadlines: deadlines.DeadlinePlan | None = deadlines.FULL
    """None: skip the deadlines part."""
    pbx: pbx.PbxPlan | None = pbx.FULL
    """None: skip the phone-system part."""
    wrap_up: wrap_up.WrapUpPlan | None = wrap_up.FULL
    """None: skip the wrap-up part."""


SMOKE = Plan(
    agents=400,
    connections=20,
    duration=1.0,
    warmup=1.0,
    repeats=1,
    pg_repeats=1,
    shift_agents=200,
    shift_clients=20,
    scale_agents=1_000,
    scale_rows=20_000,
    report_agents=100,
    scale_mix_seconds=1.0,
    fanout=fanout.SMOKE,
    browser=browser.SMOKE,
    deadlines=deadlines.SMOKE,
    pbx=pbx.SMOKE,
    wrap_up=wrap_up.SMOKE,
)

# The SQLite targets of the mix, in the order of the first round.
A, B, C = "(a) raw ASGI, no storage", "(b) raw ASGI + SQLite FULL", "(c) raw ASGI + SQLite NORMAL"
AS, AS_LOG = "agentstatus --no-access-log", "agentstatus (access log on)"
A_NOCHECK = "(a) with wrk's response() off"
PG_REF, PG_AS = "PostgreSQL reference x2", "agentstatus on PostgreSQL x2"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ------------------------------------------------------------------------


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _filesystem(path: Path) -> str:
    best, kind = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        _dev, mount, fstype, *_ = line.split()
        if str(path).startswith(mount) and len(mount) >= len(best):
            best, kind = mount, fstype
    return kind


def _code_version() -> str:
    """The commit measured, and whether the work tree differed from it (read-only git)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    return commit + (f" with {len(changed)} changed files under src/" if changed else "")


def machine(workdir: Path) -> dict[str, Any]:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "code": _code_version(),
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "uvicorn": version("uvicorn"),
        "uvloop": version("uvloop"),
        "httptools": version("httptools"),
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
        "workdir_fs": _filesystem(workdir),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


# --- the parts --------------------------------------------------------------------------


def _sqlite_servers(plan: Plan, workdir: Path) -> dict[str, Server]:
    """The targets of the mix, each on its own copy of one data set."""
    base = workdir / "base.db"
    build_sqlite(base, plan.agents)

    def copy(name: str) -> Path:
        path = workdir / f"{name}.db"
        shutil.copyfile(base, path)
        return path

    return {
        A: reference_server("ref-ok", "app_ok", workdir, {}),
        B: reference_server(
            "ref-full",
            "app_sqlite",
            workdir,
            {"BENCH_REF_DB": str(copy("ref-full")), "BENCH_REF_SYNC": "FULL"},
        ),
        C: reference_server(
            "ref-normal",
            "app_sqlite",
            workdir,
            {"BENCH_REF_DB": str(copy("ref-normal")), "BENCH_REF_SYNC": "NORMAL"},
        ),
        AS: agentstatus_server("agentstatus", f"sqlite:///{copy('agentstatus')}", workdir),
        AS_LOG: agentstatus_server(
            "agentstatus-log", f"sqlite:///{copy('agentstatus-log')}", workdir, access_log=True
        ),
    }


def sqlite_mix(plan: Plan, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shift start, then the interleaved rounds of the mix; (mix, shift start)."""
    servers = _sqlite_servers(plan, workdir)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*servers, A_NOCHECK]}
    start_all(list(servers.values()))
    shift: dict[str, Any] = {}
    try:
        # Shift start first, on freshly started servers, while every agent is logged out.
        for name in (AS, B):
            shift[name] = shift_start(servers[name], plan.shift_agents, plan.shift_clients)
            log(
                f"shift start: {name}: {shift[name]['wall_s']:.2f} s, "
                f"p99 {shift[name]['p99_ms']:.1f} ms, non-OK {shift[name]['non_ok']}"
            )
        log(f"mix: warm-up, {plan.warmup:.0f} s per target")
        for server in servers.values():
            run_mix([server], plan.warmup, plan.connections, plan.agents)
        order = [*servers, A_NOCHECK]
        for round_ in range(plan.repeats):
            rotated = order[round_ % len(order) :] + order[: round_ % len(order)]
            for name in rotated:
                check = name != A_NOCHECK
                server = servers[A] if name == A_NOCHECK else servers[name]
                result = run_mix(
                    [server], plan.duration, plan.connections, plan.agents, check=check
                )
                runs[name].append(result)
                log(
                    f"mix round {round_ + 1}/{plan.repeats}: {name}: {result['rps']:,.0f} req/s,"
                    f" p99 {result['p99_us'] / 1000:.1f} ms, non-OK {result['non_ok_total']}"
                )
    finally:
        for server in servers.values():
            server.stop()
    return {name: summarise(r) for name, r in runs.items()}, shift


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_ADMIN).set(database=database).render_as_string(hide_password=False)


def _pg_admin(*statements: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def postgres_settings() -> dict[str, str]:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
        names = (
            "server_version",
            "synchronous_commit",
            "fsync",
            "shared_buffers",
            "max_connections",
        )
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


def postgres_mix(plan: Plan, workdir: Path) -> dict[str, Any]:
    """Two instances of each, one wrk per instance (wrk drives one host:port), each with
    half the connections and half the agents; the two results are merged. Each target's
    pair is started for its run and stopped after it, so that at most two pools of
    connections are open at once (PostgreSQL's max_connections)."""
    names = {PG_AS: f"{PG_DB}_as", PG_REF: f"{PG_DB}_ref"}
    _pg_admin(*(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in [PG_DB, *names.values()]))
    _pg_admin(f'CREATE DATABASE "{PG_DB}"')
    try:
        build_postgres(_pg_url(PG_DB), plan.agents)
        _pg_admin(*(f'CREATE DATABASE "{d}" TEMPLATE "{PG_DB}"' for d in names.values()))

        def pair(name: str) -> list[Server]:
            url = _pg_url(names[name])
            if name == PG_AS:
                return [agentstatus_server(f"pg-agentstatus-{i}", url, workdir) for i in (1, 2)]
            return [
                reference_server(f"pg-ref-{i}", "app_postgres", workdir, {"BENCH_REF_PG": url})
                for i in (1, 2)
            ]

        runs: dict[str, list[dict[str, Any]]] = {PG_REF: [], PG_AS: []}
        walked: dict[str, list[int]] = {PG_REF: [0, 0], PG_AS: [0, 0]}
        for round_ in range(plan.pg_repeats):
            for name in [PG_REF, PG_AS] if round_ % 2 == 0 else [PG_AS, PG_REF]:
                servers = pair(name)
                for server, k in zip(servers, walked[name], strict=True):
                    server.walked = k
                start_all(servers)
                try:
                    run_mix(servers, plan.warmup, plan.connections, plan.agents)
                    result = run_mix(servers, plan.duration, plan.connections, plan.agents)
                finally:
                    for server in servers:
                        server.stop()
                walked[name] = [s.walked for s in servers]
                runs[name].append(result)
                log(
                    f"postgres round {round_ + 1}/{plan.pg_repeats}: {name}: {result['rps']:,.0f}"
                    f" req/s, p99 {result['p99_us'] / 1000:.1f} ms, non-OK {result['non_ok_total']}"
                )
        return {name: summarise(r) for name, r in runs.items()}
    finally:
        _pg_admin(
            *(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in [*names.values(), PG_DB])
        )


def postgres_scale(plan: Plan) -> dict[str, Any]:
    database = f"{PG_DB}_scale"
    _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"')
    try:
        return run_scale_postgres(
            _pg_url(database),
            agents=plan.scale_agents,
            rows=plan.scale_rows,
            report_agents=plan.report_agents,
            repeats=3,
        )
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def postgres_available() -> str | None:
    try:
        _pg_admin("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """One target's figure over another's, in one part of the results."""

    name: str
    part: str
    over: str
    under: str
    figure: str = "rps"

    def of_medians(self, summaries: dict[str, Any]) -> float:
        return float(summaries[self.over][self.figure] / summaries[self.under][self.figure])

    def each_round(self, summaries: dict[str, Any]) -> list[float]:
        """Round by round (the two runs of a round are minutes apart at most), to show
        whether a verdict holds in every round or only in the medians."""
        key = f"{self.figure}_runs"
        pairs = zip(summaries[self.over][key], summaries[self.under][key], strict=True)
        return [a / b for a, b in pairs]


RATIOS = [
    Ratio("agentstatus/(b) req/s", "mix", AS, B),
    Ratio("agentstatus/(c) req/s", "mix", AS, C),
    Ratio("agentstatus p99 / (b) p99", "mix", AS, B, "p99_ms"),
    Ratio("agentstatus/(a) req/s", "mix", AS, A),
    Ratio("access log on / off req/s", "mix", AS_LOG, AS),
    Ratio("wrk response() on / off, on (a)", "mix", A, A_NOCHECK),
    Ratio("PostgreSQL agentstatus/reference req/s", "postgres", PG_AS, PG_REF),
]
"""The ratios of the report, in its order; those of a part that did not run are left out."""


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Ratios of the medians (what the targets are judged on)."""
    return {r.name: r.of_medians(results[r.part]) for r in RATIOS if results.get(r.part)}


def round_ratios(results: dict[str, Any]) -> dict[str, list[float]]:
    """The same ratios round by round."""
    return {r.name: r.each_round(results[r.part]) for r in RATIOS if results.get(r.part)}


Results = dict[str, Any]


def _ratio(name: str) -> Callable[[Results], float | None]:
    """A ratio of ``ratios()``; None (no verdict) if its part did not run."""
    return lambda results: results["ratios"].get(name)


def _non_ok(part: str) -> Callable[[Results], float | None]:
    """Non-OK answers of every target of a part."""

    def count(results: Results) -> float | None:
        summaries = results.get(part)
        return None if not summaries else sum(s["non_ok"] for s in summaries.values())

    return count


def _scale(key: str) -> Callable[[Results], float | None]:
    return lambda results: results["scale"][key] if results.get("scale") else None


AS_OVER_B = Check(
    "SQLite: agentstatus >= 1.5 x (b) req/s", _ratio("agentstatus/(b) req/s"), ">=", 1.5
)
PG_OVER_REF = Check(
    "PostgreSQL: agentstatus >= 0.7 x reference req/s",
    _ratio("PostgreSQL agentstatus/reference req/s"),
    ">=",
    0.7,
)
P99_OVER_B = Check(
    "SQLite: agentstatus p99 <= (b) p99", _ratio("agentstatus p99 / (b) p99"), "<=", 1.0
)
# Every target, in the order printed; a check whose part did not run gives no verdict.
CHECKS: list[Check[Results]] = [
    AS_OVER_B,
    # The fan-out issue: the status path must not get slower for the streams' sake.
    Check(
        "SQLite: agentstatus >= 2.0 x (b) req/s (status path, fan-out issue)",
        _ratio("agentstatus/(b) req/s"),
        ">=",
        2.0,
    ),
    P99_OVER_B,
    Check("SQLite: no non-OK answer", _non_ok("mix"), "<=", 0),
    Check("stretch: agentstatus >= 1.0 x (c) req/s", _ratio("agentstatus/(c) req/s"), ">=", 1.0),
    Check("shift start: every login OK", _non_ok("shift"), "<=", 0),
    PG_OVER_REF,
    Check("PostgreSQL: no non-OK answer", _non_ok("postgres"), "<=", 0),
    Check(
        "scale: time-in-status, 1,000 agents, 1 day < 1 s",
        _scale("report_ms"),
        "<",
        1000,
        "ms",
        lambda r: f"scale: time-in-status, {r['scale']['report_agents']:,} agents, 1 day < 1 s",
    ),
    Check("scale: one agent's week of history < 50 ms", _scale("history_ms"), "<", 50, "ms"),
]


def targets(results: Results) -> list[tuple[str, bool]]:
    checks = verdicts(CHECKS, results)
    if results.get("fanout"):
        checks += fanout.targets(fanout.FanoutResult.from_json(results["fanout"]))
    if results.get("browser"):
        checks += browser.targets(browser.BrowserResult.from_json(results["browser"]))
    if results.get("deadlines"):
        checks += deadlines.targets(deadlines.DeadlinesResult.from_json(results["deadlines"]))
    if results.get("pbx"):
        checks += pbx.targets(pbx.PbxResult.from_json(results["pbx"]))
    if results.get("wrap_up"):
        checks += wrap_up.targets(wrap_up.WrapUpResult(**results["wrap_up"]["result"]))
    return checks


def table(results: dict[str, Any]) -> str:
    lines = [*_run_lines(results), "", *_mix_lines(results), ""]
    lines += [*_shift_and_postgres_lines(results), *_scale_lines(results), *_part_tables(results)]
    lines.append("")
    for name, met in results["targets"]:
        lines.append(f"{'MET    ' if met else 'NOT MET'}  {name}")
    return "\n".join(lines)


def _run_lines(results: Results) -> list[str]:
    """The machine, the code and the plan of the mix."""
    m, p = results["machine"], results["plan"]
    return [
        f"machine: {m['nproc']} x {m['cpu']}, {m['memory']}, kernel {m['kernel']}, workdir on "
        f"{m['workdir_fs']}; Python {m['python']}, SQLite {m['sqlite']}, uvicorn {m['uvicorn']} "
        f"(uvloop {m['uvloop']}, httptools {m['httptools']}), {m['wrk']}; load average "
        f"{' '.join(m['loadavg_start'])} at start, {' '.join(m['loadavg_end'])} at end",
        f"code: {m['code']} (at the start of the run)",
        f"mix: {p['agents']:,} agents, {p['connections']} connections, "
        f"{p['duration']:.0f} s per run, median of {p['repeats']} interleaved runs "
        f"(after a {p['warmup']:.0f} s warm-up); PostgreSQL: median of {p['pg_repeats']}",
    ]


def _mix_lines(results: Results) -> list[str]:
    """The targets of the mix (SQLite and PostgreSQL), then the ratios."""
    header = (
        f"{'target':<34} | {'req/s':>8} | {'(min-max)':>13} | {'p50 ms':>7} | "
        f"{'p99 ms':>7} | {'non-OK':>6}"
    )
    lines = [header, "-" * len(header)]
    rows = dict(results.get("mix") or {})
    rows.update(results.get("postgres") or {})
    for name, s in rows.items():
        spread = f"{s['rps_min']:,.0f}-{s['rps_max']:,.0f}"
        lines.append(
            f"{name:<34} | {s['rps']:>8,.0f} | {spread:>13} | {s['p50_ms']:>7.1f} | "
            f"{s['p99_ms']:>7.1f} | {s['non_ok']:>6}"
        )
    lines += ["", f"{'ratio (of the medians)':<42} {'':6}  each round"]
    for name, value in results["ratios"].items():
        each = " ".join(f"{r:.2f}" for r in results["round_ratios"][name])
        lines.append(f"{name:<42} {value:6.2f}  {each}")
    return lines


def _shift_and_postgres_lines(results: Results) -> list[str]:
    lines = [
        f"shift start, {name}: {s['agents']:,} logins by {s['clients']} clients in "
        f"{s['wall_s']:.2f} s ({s['rps']:,.0f}/s), p50 {s['p50_ms']:.1f} ms, p99 "
        f"{s['p99_ms']:.1f} ms, non-OK {s['non_ok']} (driver CPU {s['driver_cpu_s']:.1f} s)"
        for name, s in (results.get("shift") or {}).items()
    ]
    pg = results.get("postgres_settings")
    if pg:
        lines.append(
            "PostgreSQL "
            + ", ".join(f"{k}={v}" for k, v in pg.items() if k != "server_version")
            + f" (server {pg['server_version']})"
        )
    elif results.get("postgres_skipped"):
        lines.append(f"PostgreSQL: skipped ({results['postgres_skipped']})")
    return lines


def _scale_lines(results: Results) -> list[str]:
    lines = []
    for s in (results.get(key) for key in ("scale", "scale_postgres")):
        if not s:
            continue
        lines.append(
            f"scale ({s['engine']}, {s['agents']:,} agents, {s['history_rows']:,} history rows, "
            f"built in {s['build_s']:.0f} s): time-in-status of {s['report_agents']:,} agents "
            f"over 1 day {s['report_ms']:,.0f} ms (cold {s['report_cold_ms']:,.0f} ms, "
            f"{s['report_rows']:,} rows); one agent's week of history {s['history_ms']:.1f} ms "
            f"(cold {s['history_cold_ms']:.1f} ms, {s['history_events']} events)"
        )
        if "rss_after_mib" in s:
            lines.append(
                f"scale server: resident {s['rss_started_mib']:.0f} MiB after start, "
                f"{s['rss_after_mib']:.0f} MiB after the report ({s['http_report_ms']:,.0f} ms "
                f"over HTTP), the history ({s['http_history_ms']:.0f} ms over HTTP) and "
                f"{results['plan']['scale_mix_seconds']:.0f} s of the mix over all agents "
                f"({s['mix_rps']:,.0f} req/s, p99 {s['mix_p99_ms']:.1f} ms, non-OK "
                f"{s['mix_non_ok']}); peak {s['rss_peak_mib']:.0f} MiB"
            )
    return lines


def _part_tables(results: Results) -> list[str]:
    """The tables of the parts with their own module, each after an empty line."""
    lines: list[str] = []
    if results.get("fanout"):
        lines += ["", fanout.table(fanout.FanoutResult.from_json(results["fanout"]))]
    if results.get("browser"):
        lines += ["", browser.table(browser.BrowserResult.from_json(results["browser"]))]
    elif results.get("browser_skipped"):
        lines += ["", f"browser: skipped ({results['browser_skipped']})"]
    if results.get("deadlines"):
        lines += ["", deadlines.table(deadlines.DeadlinesResult.from_json(results["deadlines"]))]
    if results.get("pbx"):
        lines += ["", pbx.table(pbx.PbxResult.from_json(results["pbx"]))]
    if results.get("wrap_up"):
        done = results["wrap_up"]
        lines += ["", wrap_up.table(done["plan"], wrap_up.WrapUpResult(**done["result"]))]
    return lines


def bars(results: dict[str, Any]) -> list[chart.Bar]:
    mix = results.get("mix")
    pg = results.get("postgres") or {}
    rows: list[tuple[str, dict[str, Any], str, float | None, float | None]] = []
    if mix:
        b = mix[B]
        rows = [
            (A, mix[A], "reference", None, None),
            (C, mix[C], "reference", None, None),
            (B, b, "reference", None, None),
            (
                AS,
                mix[AS],
                "agentstatus",
                AS_OVER_B.limit * b["rps"],
                P99_OVER_B.limit * b["p99_ms"],
            ),
            (AS_LOG, mix[AS_LOG], "agentstatus", None, None),
        ]
    if pg:
        rows.append((PG_REF, pg[PG_REF], "reference", None, None))
        rows.append((PG_AS, pg[PG_AS], "agentstatus", PG_OVER_REF.limit * pg[PG_REF]["rps"], None))
    return [
        chart.Bar(
            name,
            s["rps"],
            s["p99_ms"],
            kind,
            rps_target=rps_target,
            p99_target=p99_target,
            rps_range=(s["rps_min"], s["rps_max"]),
        )
        for name, s, kind, rps_target, p99_target in rows
    ]


def draw(results: dict[str, Any], path: Path) -> bool:
    """Draw the chart; False (nothing drawn) when no throughput part ran."""
    drawn = bars(results)
    if not drawn:
        return False
    p, m = results["plan"], results["machine"]
    chart.write(
        path,
        drawn,
        f"{p['agents']:,} agents, {p['connections']} connections, wrk; median of {p['repeats']} "
        f"runs of {p['duration']:.0f} s (PostgreSQL: {p['pg_repeats']}); {m['nproc']} x "
        f"{m['cpu']}; SQLite WAL on {m['workdir_fs']}; code {m['code']}",
    )
    return True


def _plan(args: argparse.Namespace) -> Plan:
    """The plan of the run: the full or the smoke one, with the command line's changes."""
    changes: dict[str, Any] = {}
    if args.no_sqlite:
        changes["sqlite"] = False
    if args.no_postgres:
        changes["postgres"] = False
    if args.no_scale:
        changes["scale"] = False
    if args.no_fanout:
        changes["fanout"] = None
    if args.no_browser:
        changes["browser"] = None
    if args.no_deadlines:
        changes["deadlines"] = None
    if args.no_pbx:
        changes["pbx"] = None
    if args.no_wrap_up:
        changes["wrap_up"] = None
    if args.scale_postgres:
        changes["scale_postgres"] = True
    if args.duration:
        changes["duration"] = args.duration
    if args.repeats:
        changes["repeats"] = args.repeats
    return replace(SMOKE if args.smoke else Plan(), **changes)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, about a second per run")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="skip the SQLite mix and the shift start"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL part")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale part")
    parser.add_argument("--no-fanout", action="store_true", help="skip the fan-out part")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser part")
    parser.add_argument("--no-deadlines", action="store_true", help="skip the deadlines part")
    parser.add_argument("--no-pbx", action="store_true", help="skip the phone-system part")
    parser.add_argument("--no-wrap-up", action="store_true", help="skip the wrap-up part")
    parser.add_argument(
        "--scale-postgres", action="store_true", help="also time the reports on PostgreSQL"
    )
    parser.add_argument("--duration", type=float, help="seconds per measured run")
    parser.add_argument("--repeats", type=int, help="interleaved rounds")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--chart", type=Path, help="where to write the SVG chart")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--redraw", action="store_true", help="only draw the chart again from the JSON results"
    )
    return parser


def _postgres_part(plan: Plan, workdir: Path, results: Results) -> None:
    if not plan.postgres:
        results["postgres_skipped"] = "--no-postgres"
        return
    unavailable = postgres_available()
    if unavailable is None:
        results["postgres_settings"] = postgres_settings()
        results["postgres"] = postgres_mix(plan, workdir)
    else:
        results["postgres_skipped"] = f"not reachable: {unavailable}"


def _deadlines_part(plan: deadlines.DeadlinePlan, workdir: Path, results: Results) -> None:
    """On SQLite, and on PostgreSQL when the PostgreSQL part ran (its settings were read)."""
    log(f"deadlines: {plan.agents:,} deadlines, on SQLite and PostgreSQL")
    pg_url = None
    if "postgres_settings" in results and plan.postgres:
        database = f"{PG_DB}_deadlines"
        _pg_admin(
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"'
        )
        pg_url = _pg_url(database)
    results["deadlines"] = deadlines.run_deadlines(plan, workdir, pg_url).to_json()


def _scale_part(plan: Plan, workdir: Path, results: Results) -> None:
    log(f"scale: building {plan.scale_agents:,} agents and {plan.scale_rows:,} history rows")
    results["scale"] = run_scale(
        workdir,
        agents=plan.scale_agents,
        rows=plan.scale_rows,
        report_agents=plan.report_agents,
        repeats=3,
        mix_seconds=plan.scale_mix_seconds,
        connections=plan.connections,
    )
    if plan.scale_postgres and "postgres_settings" in results:
        log("scale on PostgreSQL")
        results["scale_postgres"] = postgres_scale(plan)


def run_parts(plan: Plan, workdir: Path, results: Results) -> None:
    """Every part of the plan, in order, into ``results``."""
    if plan.sqlite:
        results["mix"], results["shift"] = sqlite_mix(plan, workdir)
    _postgres_part(plan, workdir, results)
    if plan.fanout:
        log(f"fan-out: {plan.fanout.agents:,} agents, one agentstatus on SQLite")
        results["fanout"] = fanout.run_fanout(plan.fanout, workdir).to_json()
    if plan.browser:
        missing = browser.available()
        if missing is None:
            log(f"browser: the board and the wall of {plan.browser.agents:,} agents in Chromium")
            results["browser"] = browser.run_browser(plan.browser, workdir).to_json()
        else:
            results["browser_skipped"] = missing
    if plan.deadlines:
        _deadlines_part(plan.deadlines, workdir, results)
    if plan.pbx:
        log(f"pbx: {plan.pbx.rate:g} changes/s to a loopback Asterisk and FreeSWITCH, a reconcile")
        results["pbx"] = asdict(pbx.run_pbx(plan.pbx, workdir))
    if plan.wrap_up:
        log(f"wrap-up: {plan.wrap_up.agents:,} agents' calls through a loopback Asterisk")
        done = wrap_up.run(plan.wrap_up, workdir)
        results["wrap_up"] = {"plan": asdict(plan.wrap_up), "result": asdict(done)}
    if plan.scale:
        _scale_part(plan, workdir, results)


def _report(results: Results, json_path: Path, chart_path: Path) -> None:
    """Verdicts into ``results``; the JSON, the chart and the table written."""
    results["ratios"] = ratios(results)
    results["round_ratios"] = round_ratios(results)
    results["targets"] = targets(results)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    chart_note = f", chart in {chart_path}" if draw(results, chart_path) else ", no chart"
    print(table(results))
    print(f"\n(results in {json_path}{chart_note}; {results['elapsed_s']:.0f} s in all)")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    plan = _plan(args)
    if plan.shift_agents > plan.agents:
        parser.error("the shift start cannot log in more agents than the data set has")
    stem = "smoke" if args.smoke else "last"
    json_path = args.json or RESULTS / f"{stem}.json"
    chart_path = args.chart or (
        RESULTS / "smoke.svg" if args.smoke else REPO / "docs" / "performance.svg"
    )
    if args.redraw:
        draw(json.loads(json_path.read_text()), chart_path)
        print(f"chart in {chart_path}")
        return 0
    if (plan.sqlite or plan.postgres or plan.scale) and shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk (make bench does it)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="agentstatus-bench-"))
    started = time.monotonic()
    results: Results = {"plan": asdict(plan), "machine": machine(workdir)}
    try:
        log(f"work directory {workdir} ({results['machine']['workdir_fs']})")
        run_parts(plan, workdir, results)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["elapsed_s"] = time.monotonic() - started
    _report(results, json_path, chart_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
