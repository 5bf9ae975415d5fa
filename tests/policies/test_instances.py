"""Three server processes on one PostgreSQL act on every deadline exactly once: 300 agents
pass their statuses' limits (warn and login) at about the same time, then a shift end logs
out everyone still logged in. Prints the figures (delay from due to applied)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, select

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import history, policies
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.schema import deadlines
from tests.support.factories import make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess

AGENTS = 300


async def _enter(bases: list[str], code: str, plan: list[tuple[str, str, int]]) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.get(
                    f"{bases[i % len(bases)]}/UserLogin/SetStatusFromAPI",
                    params={"Code": code, "UserId": u, "ExtensionUser": e, "Status": s},
                )
                for i, (u, e, s) in enumerate(plan)
            )
        )
    return [a.json()["StatusErroMessage"] for a in answers]


def _policy_events(engine: Engine, org: str) -> list[history.HistoryEvent]:
    found: list[history.HistoryEvent] = []
    after = None
    while True:
        page = history.read_history(engine, org, after=after, limit=1000)
        found += [e for e in page.events if e.policy]
        if page.next_after is None:
            return found
        after = page.next_after


def _wait_for(engine: Engine, org: str, count: int, timeout: float) -> list[history.HistoryEvent]:
    deadline = time.monotonic() + timeout
    while True:
        found = _policy_events(engine, org)
        if len(found) >= count or time.monotonic() > deadline:
            time.sleep(1.0)  # anything more (a duplicate) would be written by now
            return _policy_events(engine, org)
        time.sleep(0.2)


def _delays(events: list[history.HistoryEvent]) -> str:
    delays = sorted(e.at_ms - (e.due_ms or e.at_ms) for e in events)
    p50, p99 = delays[len(delays) // 2], delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return f"p50 {p50} ms, p99 {p99} ms, max {delays[-1]} ms"


def test_three_instances_act_once_per_deadline(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    url = postgres_databases.create()
    engine = open_database(url)
    org = make_org(engine, agent_count=AGENTS, extension_count=AGENTS)
    policies.set_limit(engine, org.name, 3, Limit(2, LimitAction.WARN))
    policies.set_limit(engine, org.name, 5, Limit(2, LimitAction.LOGIN))
    servers = [ServerProcess(url, tmp_path / f"s{i}.log") for i in range(3)]
    try:
        for server in servers:
            server.start()
        bases = [s.base_url for s in servers]
        plan = [
            (user, sip, 3 if i % 2 == 0 else 5)
            for i, (user, sip) in enumerate(zip(org.agents, org.extensions, strict=True))
        ]
        assert set(asyncio.run(_enter(bases, org.code, plan))) == {"OK"}
        acted = _wait_for(engine, org.name, AGENTS, timeout=20)
        per_agent = Counter((e.user_id, e.policy) for e in acted)
        assert len(acted) == AGENTS, Counter(e.policy for e in acted)
        assert set(per_agent.values()) == {1}  # exactly once per deadline
        assert Counter(e.policy for e in acted) == {"limit:warn": 150, "limit:login": 150}
        print(f"\nlimits, {AGENTS} deadlines on 3 instances: {_delays(acted)}")

        # A shift end due now, beside the one planned (up to a day away) for the same time
        # of day; its planning is tested on its own.
        policies.set_shift_end(engine, org.name, "23:59")
        with engine.begin() as conn:
            conn.execute(
                insert(deadlines).values(
                    org_id=org_id(conn, org.name), kind="shift", due_ms=now_ms()
                )
            )
        outs = [e for e in _wait_for(engine, org.name, 2 * AGENTS, 20) if e.policy == "shift-end"]
        assert len(outs) == AGENTS
        assert len({e.user_id for e in outs}) == AGENTS
        print(f"shift end, {AGENTS} logouts on 3 instances: {_delays(outs)}")
        with reading(engine) as conn:
            # This organisation's: the database may hold other modules' organisations.
            left = conn.execute(
                select(func.count())
                .select_from(deadlines)
                .where(deadlines.c.org_id == org_id(conn, org.name))
            ).scalar_one()
        assert left == 1  # the next shift end, planned once
    finally:
        for server in servers:
            server.stop()
        engine.dispose()
