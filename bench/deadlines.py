"""The policies part (issue 14): how soon after a deadline passes it is acted on, and that
each is acted on exactly once, by one instance of several.

(i)  SQLite, one instance: ``agents`` agents enter Lunch break (limit ``limit_seconds``,
     then warn) at ``rate`` a second, through ``SetStatusFromAPI``; each makes one deadline.
(ii) PostgreSQL, three instances on one database: the same, half into Lunch break (warn),
     half into Administrative time (then back to Login), spread over the instances.

A deadline's delay is its history row's ``at_ms`` (applied) minus its ``due_ms`` (due), both
written by the server, so one clock. Missing and duplicated count the agents whose
deadline was acted on no time or more than once.

``python -m bench.deadlines [--smoke]`` runs this part alone (the PostgreSQL scenario needs
``BENCH_POSTGRES_URL``'s server); ``bench/run.py`` runs it as part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import policies
from agentstatus.storage.migrate import open_database
from bench.checks import Check, verdicts
from bench.dataset import CODE, ORG, USER_BASE, build_postgres, build_sqlite
from bench.harness import Server, agentstatus_server, start_all

LUNCH, ADMIN_TIME = 3, 5
WAIT_AFTER_SECONDS = 15.0
"""Longest wait, after the last deadline is due, for every one to be acted on."""
SETTLE_SECONDS = 2.0
"""Then this long more, for a duplicate to show if there is one."""


@dataclass(frozen=True)
class DeadlinePlan:
    agents: int = 2_000
    rate: float = 400.0
    limit_seconds: int = 2
    postgres: bool = True


FULL = DeadlinePlan()
SMOKE = DeadlinePlan(agents=100, rate=100.0)


@dataclass(frozen=True)
class DeadlineResult:
    key: str
    label: str
    instances: int
    deadlines: int
    acted: int
    missing: int
    duplicated: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    by_policy: dict[str, int] = field(default_factory=dict)


@dataclass
class DeadlinesResult:
    scenarios: list[DeadlineResult] = field(default_factory=list)
    postgres_skipped: str | None = None

    def scenario(self, key: str) -> DeadlineResult | None:
        return next((s for s in self.scenarios if s.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadlinesResult:
        return cls([DeadlineResult(**s) for s in data["scenarios"]], data.get("postgres_skipped"))


def _percentile(ordered: list[int], p: float) -> float | None:
    if not ordered:
        return None
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * p))])


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _enter(bases: list[str], plan: DeadlinePlan, status_of: Any) -> int:
    """Open loop: agent i enters its status at ``start + i / rate``; the non-OK count."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = time.monotonic()

        async def one(i: int) -> bool:
            await asyncio.sleep(max(0.0, start + i / plan.rate - time.monotonic()))
            user = USER_BASE + i + 1
            answer = await client.get(
                f"{bases[i % len(bases)]}/UserLogin/SetStatusFromAPI",
                params={
                    "Code": CODE,
                    "UserId": str(user),
                    "ExtensionUser": f"sip{user}",
                    "Status": status_of(i),
                },
            )
            return bool(answer.json().get("StatusErroMessage") == "OK")

        done = await asyncio.gather(*(one(i) for i in range(plan.agents)))
    return sum(1 for ok in done if not ok)


def _acted(url: str) -> list[tuple[int, str, int, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT agent_id, policy, at_ms, due_ms FROM history "
                    "WHERE policy IS NOT NULL ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    return [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


def _scenario(
    key: str, label: str, url: str, servers: list[Server], plan: DeadlinePlan, status_of: Any
) -> DeadlineResult:
    try:
        start_all(servers)
        _log(f"deadlines ({key}): {plan.agents:,} agents entering limited statuses")
        non_ok = asyncio.run(_enter([s.url for s in servers], plan, status_of))
        if non_ok:
            raise RuntimeError(f"deadlines ({key}): {non_ok} changes were not OK")
        wait_until = time.monotonic() + plan.limit_seconds + WAIT_AFTER_SECONDS
        while len(_acted(url)) < plan.agents and time.monotonic() < wait_until:
            time.sleep(0.2)
        time.sleep(SETTLE_SECONDS)
        acted = _acted(url)
    finally:
        for server in servers:
            server.stop()
    per_agent = Counter(agent for agent, _, _, _ in acted)
    delays = sorted(at - due for _, _, at, due in acted)
    return DeadlineResult(
        key=key,
        label=label,
        instances=len(servers),
        deadlines=plan.agents,
        acted=len(acted),
        missing=plan.agents - len(per_agent),
        duplicated=sum(1 for n in per_agent.values() if n > 1),
        p50_ms=_percentile(delays, 0.5),
        p99_ms=_percentile(delays, 0.99),
        max_ms=float(delays[-1]) if delays else None,
        by_policy=dict(Counter(policy for _, policy, _, _ in acted)),
    )


def _set_limits(url: str, plan: DeadlinePlan) -> None:
    engine = open_database(url)
    try:
        policies.set_limit(engine, ORG, LUNCH, Limit(plan.limit_seconds, LimitAction.WARN))
        policies.set_limit(engine, ORG, ADMIN_TIME, Limit(plan.limit_seconds, LimitAction.LOGIN))
    finally:
        engine.dispose()


def run_deadlines(
    plan: DeadlinePlan, workdir: Path, postgres_url: str | None = None
) -> DeadlinesResult:
    """(i) on a fresh SQLite database; (ii) on ``postgres_url`` (an empty database) when
    given."""
    result = DeadlinesResult()
    path = workdir / "deadlines.db"
    build_sqlite(path, plan.agents)
    url = f"sqlite:///{path}"
    _set_limits(url, plan)
    server = agentstatus_server("agentstatus-deadlines", url, workdir)
    result.scenarios.append(
        _scenario("i", "SQLite, 1 instance", url, [server], plan, lambda i: LUNCH)
    )
    if postgres_url is None:
        result.postgres_skipped = "no PostgreSQL database given"
        return result
    build_postgres(postgres_url, plan.agents)
    _set_limits(postgres_url, plan)
    servers = [
        agentstatus_server(f"agentstatus-deadlines-pg{n}", postgres_url, workdir) for n in range(3)
    ]
    result.scenarios.append(
        _scenario(
            "ii",
            "PostgreSQL, 3 instances",
            postgres_url,
            servers,
            plan,
            lambda i: LUNCH if i % 2 == 0 else ADMIN_TIME,
        )
    )
    return result


def _checks() -> list[Check[DeadlinesResult]]:
    out: list[Check[DeadlinesResult]] = []
    for key in ("i", "ii"):

        def figure(attr: str, key: str = key) -> Any:
            def read(result: DeadlinesResult) -> float | None:
                found = result.scenario(key)
                if found is None:
                    return None
                value = getattr(found, attr)
                return float("inf") if value is None else float(value)

            return read

        out += [
            Check(f"deadlines ({key}): none missing", figure("missing"), "<=", 0),
            Check(f"deadlines ({key}): none acted on twice", figure("duplicated"), "<=", 0),
            Check(
                f"deadlines ({key}): due to applied p99 <= 2 s", figure("p99_ms"), "<=", 2000, "ms"
            ),
        ]
    return out


CHECKS = _checks()


def targets(result: DeadlinesResult) -> list[tuple[str, bool]]:
    return verdicts(CHECKS, result)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(result: DeadlinesResult) -> str:
    header = (
        f"{'deadlines':<26} | {'deadlines':>9} | {'acted':>6} | {'missing':>7} | "
        f"{'twice':>5} | {'p50 ms':>6} | {'p99 ms':>6} | {'max ms':>6} | policies"
    )
    lines = [header, "-" * len(header)]
    for s in result.scenarios:
        policies_seen = ", ".join(f"{k} {v:,}" for k, v in sorted(s.by_policy.items()))
        lines.append(
            f"{s.label:<26} | {s.deadlines:>9,} | {s.acted:>6,} | {s.missing:>7,} | "
            f"{s.duplicated:>5,} | {_ms(s.p50_ms):>6} | {_ms(s.p99_ms):>6} | "
            f"{_ms(s.max_ms):>6} | {policies_seen}"
        )
    if result.postgres_skipped:
        lines.append(f"PostgreSQL scenario skipped: {result.postgres_skipped}")
    lines.append("")
    for check in CHECKS:
        value = check.value(result)
        if value is not None:
            verdict = "MET" if check.met(value) else "NOT MET"
            lines.append(f"{check.name:<52} {value:>10,.0f}  {check.bound():<12}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.deadlines", description="The policies part of the benchmark."
    )
    parser.add_argument("--smoke", action="store_true", help="tiny numbers (seconds)")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database for (ii)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="agentstatus-deadlines-"))
    try:
        result = run_deadlines(SMOKE if args.smoke else FULL, workdir, args.postgres_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
