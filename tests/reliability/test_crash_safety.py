"""Crash safety (SPEC.md 3.1: "OK" only once the change is durable): a real server under
concurrent load is SIGKILLed at random moments, again and again, and restarted.

Worker threads each own two agents and their extensions, and send a stream of status
changes, each different from every state its agent may be in (the last acknowledged one,
and any sent since whose answer was lost), so that every applied request appends exactly
one history event. After every kill, with the server down, the SQLite file is checked:
``PRAGMA integrity_check`` is ok; no extension is held twice and no agent holds two; and,
per agent, the history is the sequence of requests sent, each acknowledged one present in
order, plus only requests whose answer was lost (in flight when killed: applied or not),
and its presence is where the last event left it. Nothing acknowledged may be lost.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from agentstatus.app import open_database
from tests.reliability.figures import record, size
from tests.support.bulk import make_big_org
from tests.support.compat import OK_BODY, SET_STATUS, db_path
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

WORKERS = 8
AGENTS_PER_WORKER = 2
STATUSES = (1, 3, 5, 7, 9, 11, 12, 13)
LOGGED_OUT: tuple[str | None, int] = (None, 2)
Place = tuple[str | None, int]


@dataclass
class Sent:
    target: Place
    acked: bool | None = None  # None: no answer yet; False: the answer was lost


@dataclass
class Agent:
    user: str
    extensions: tuple[str, str]
    sent: list[Sent] = field(default_factory=list)

    def next_target(self, rng: random.Random) -> Place:
        """A change from every state the agent may be in now."""
        possible = {LOGGED_OUT}
        for entry in self.sent:
            if entry.acked:
                possible = {entry.target}
            else:
                possible.add(entry.target)
        choices = [(e, s) for e in self.extensions for s in STATUSES] + [LOGGED_OUT]
        return rng.choice([c for c in choices if c not in possible])


class Load:
    """The worker threads, and the switch the killer flips around each restart."""

    def __init__(self, server: ServerProcess, org: OrgFixture, seed: int) -> None:
        self.server, self.org, self.seed = server, org, seed
        self.up, self.stop = threading.Event(), threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.acks = 0
        self.errors: list[str] = []
        users, exts = iter(org.agents), iter(org.extensions)
        self.agents = [
            Agent(next(users), (next(exts), next(exts))) for _ in range(WORKERS * AGENTS_PER_WORKER)
        ]
        self.threads = [
            threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(WORKERS)
        ]

    def work(self, index: int) -> None:
        rng = random.Random(self.seed * 100 + index)
        mine = self.agents[index * AGENTS_PER_WORKER : (index + 1) * AGENTS_PER_WORKER]
        client = httpx.Client(base_url=self.server.base_url, timeout=30)
        while not self.stop.is_set():
            for agent in mine:
                with self.lock:
                    entry = Sent(agent.next_target(rng))
                    agent.sent.append(entry)
                extension, status = entry.target
                query = {"Code": self.org.code, "UserId": agent.user, "Status": str(status)}
                query["ExtensionUser"] = extension or agent.extensions[0]
                try:
                    answer = client.get(SET_STATUS, params=query)
                except httpx.TransportError:
                    with self.lock:
                        entry.acked = False
                    client.close()
                    self.up.wait()
                    client = httpx.Client(base_url=self.server.base_url, timeout=30)
                    continue
                if answer.json() != OK_BODY:
                    self.errors.append(f"{agent.user} {entry.target}: {answer.text}")
                    self.stop.set()
                with self.lock:
                    entry.acked = True
                    self.acks += 1
        client.close()


def check_database(database: Path, load: Load) -> tuple[int, int]:
    """With the server down: the file is sound, the invariants hold, and every agent's
    history and presence agree with what was sent. Returns (acknowledged, lost-in-flight
    requests that were applied)."""
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        twice = "SELECT extension_id FROM presence WHERE extension_id IS NOT NULL "
        assert conn.execute(twice + "GROUP BY extension_id HAVING count(*) > 1").fetchall() == []
        once = "SELECT agent_id FROM presence GROUP BY agent_id HAVING count(*) > 1"
        assert conn.execute(once).fetchall() == []
        events = conn.execute(
            "SELECT user_id, prev_extension, prev_status, new_extension, new_status "
            "FROM history ORDER BY id"
        ).fetchall()
        where = dict(
            conn.execute(
                "SELECT a.user_id, e.sip || ':' || p.status FROM presence p "
                "JOIN agents a ON a.id = p.agent_id LEFT JOIN extensions e ON e.id = p.extension_id"
            ).fetchall()
        )
    acked = applied_unacked = 0
    with load.lock:
        for agent in load.agents:
            own = [((e[1], e[2]), (e[3], e[4])) for e in events if e[0] == agent.user]
            state, i = LOGGED_OUT, 0
            for previous, new in own:
                assert previous == state, (agent.user, previous, state)
                skipped = agent.sent[i:]
                while skipped and not skipped[0].acked and skipped[0].target != new:
                    skipped, i = skipped[1:], i + 1  # in flight when killed, not applied
                assert i < len(agent.sent), f"{agent.user}: an event nobody sent: {new}"
                assert agent.sent[i].target == new, f"{agent.user}: lost {agent.sent[i]}"
                applied_unacked += not agent.sent[i].acked
                state, i = new, i + 1
            lost = [s for s in agent.sent[i:] if s.acked]
            assert lost == [], f"{agent.user}: acknowledged but not stored: {lost}"
            acked += sum(1 for s in agent.sent if s.acked)
            assert where[agent.user] == (None if state[0] is None else f"{state[0]}:{state[1]}")
    return acked, applied_unacked


def test_acknowledged_changes_survive_repeated_sigkills_under_load(
    database_url: str, tmp_path: Path
) -> None:
    engine = open_database(database_url)
    org = make_big_org(engine, WORKERS * AGENTS_PER_WORKER * 2)
    engine.dispose()
    kills = size("crash_kills", 5, 30)
    rng = random.Random(kills)
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    load = Load(server, org, seed=kills)
    for thread in load.threads:
        thread.start()
    database = db_path(database_url)
    acked = applied = 0
    try:
        for _ in range(kills):
            floor, deadline = load.acks + 40, time.monotonic() + 60
            while load.acks < floor and time.monotonic() < deadline and not load.errors:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.3))  # somewhere in the middle of the traffic
            load.up.clear()
            server.kill()
            acked, applied = check_database(database, load)
            server.start()
            load.up.set()
            assert not load.errors, load.errors
    finally:
        load.stop.set()
        load.up.set()
        for thread in load.threads:
            thread.join(60)
        server.kill()
    acked, applied = check_database(database, load)
    in_flight = sum(1 for a in load.agents for s in a.sent if s.acked is False)
    record(
        "crash_safety",
        kills=kills,
        acknowledged_checked=acked,
        in_flight_at_kills=in_flight,
        in_flight_applied=applied,
        lost=0,
    )
    assert not load.errors, load.errors
    assert acked >= kills * 40
    assert in_flight > 0  # the kills did land under load
