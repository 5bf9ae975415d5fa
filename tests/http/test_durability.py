""" "OK" only after the change is durable (SPEC.md 3.1): a real server is killed (SIGKILL,
or stopped with SIGTERM) while hundreds of requests are in flight, and every change it
answered OK must be in the database a restarted server reads. A database that refuses
writes answers row 11 and changes nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.history import read_history
from agentstatus.service.presence import list_presence
from tests.support.bulk import make_big_org
from tests.support.compat import (
    OK_BODY,
    SET_STATUS,
    Via,
    assert_row,
    db_path,
    params,
    query,
    send,
)
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess

AGENTS = 300
STEPS = (1, 3, 5)  # each agent, one after the other: login, lunch, admin time
IN_FLIGHT = 24
STOP_AFTER_OKS = 250  # of AGENTS * len(STEPS) = 900

Confirmed = dict[str, list[int]]


async def hammer(server: ServerProcess, org: OrgFixture, stop: Callable[[], None]) -> Confirmed:
    """Every agent walks through STEPS at its own extension, IN_FLIGHT requests at a time;
    once STOP_AFTER_OKS answers were OK the server is stopped under the load.

    Returns, per agent, the statuses the server answered OK, in order."""
    confirmed: Confirmed = {a: [] for a in org.agents}
    cut_off: list[str] = []
    reached = asyncio.Event()
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as client:

        async def agent(user: str, extension: str) -> None:
            for status in STEPS:
                query_ = {k: str(v) for k, v in params(org, user, extension, status).items()}
                try:
                    response = await client.get(SET_STATUS, params=query_)
                except httpx.TransportError:
                    cut_off.append(user)
                    return
                assert response.json() == OK_BODY, response.text
                confirmed[user].append(status)
                if sum(map(len, confirmed.values())) >= STOP_AFTER_OKS:
                    reached.set()

        async def stopper() -> None:
            await reached.wait()
            await asyncio.to_thread(stop)

        async with asyncio.TaskGroup() as group:
            group.create_task(stopper())
            for user, extension in zip(org.agents, org.extensions, strict=True):
                group.create_task(agent(user, extension))
    assert cut_off, "every request was answered: the server was not stopped under load"
    return confirmed


def assert_sound(database: Path) -> None:
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def assert_every_ok_is_stored(engine: Engine, org: OrgFixture, confirmed: Confirmed) -> None:
    """Every change answered OK is in the history, in order, and presence agrees; at most
    one more (a request whose answer was lost) follows each agent's last OK."""
    page = read_history(engine, org.name, limit=1000)
    assert page.next_after is None
    recorded: Confirmed = {a: [] for a in org.agents}
    for event in page.events:
        recorded[event.user_id].append(event.new_status)
    now = {p.user_id: p for p in list_presence(engine, org.name)}
    for user, extension in zip(org.agents, org.extensions, strict=True):
        oks = confirmed[user]
        assert recorded[user][: len(oks)] == oks, user
        assert len(recorded[user]) <= len(oks) + 1, user
        expected = recorded[user][-1] if recorded[user] else 2
        assert (now[user].extension, now[user].status) == (
            None if expected == 2 else extension,
            expected,
        )
    answered = sum(map(len, confirmed.values()))
    assert STOP_AFTER_OKS <= answered < AGENTS * len(STEPS)


def test_every_ok_answer_survives_sigkill_under_load(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_big_org(engine, AGENTS)
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    try:
        confirmed = asyncio.run(hammer(server, org, server.kill))
    finally:
        server.stop()
    assert_sound(db_path(database_url))
    fresh = open_database(database_url)  # opened after the crash: recovers the WAL
    try:
        assert_every_ok_is_stored(fresh, org, confirmed)
        before = read_history(fresh, org.name, limit=1000).events
        # A restarted server carries on from there: repeating an OK changes nothing.
        with (
            ServerProcess(database_url, tmp_path / "restarted.log") as restarted,
            httpx.Client(base_url=restarted.base_url, timeout=30) as client,
        ):
            for agent in list_presence(fresh, org.name)[:50]:
                again = params(org, agent.user_id, agent.extension or "e1", agent.status)
                assert_row(send(client, Via.GET, again), 12)
        assert_every_ok_is_stored(fresh, org, confirmed)
        assert read_history(fresh, org.name, limit=1000).events == before
    finally:
        fresh.dispose()
    assert_sound(db_path(database_url))


def test_every_ok_answer_survives_a_graceful_stop_under_load(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_big_org(engine, AGENTS)
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    try:
        confirmed = asyncio.run(hammer(server, org, server.stop))
    finally:
        server.stop()
    # uvicorn re-raises SIGTERM after its shutdown, so the log tells whether it was graceful.
    assert "Application shutdown complete." in server.log_path.read_text()
    assert_every_ok_is_stored(engine, org, confirmed)
    assert_sound(db_path(database_url))


def test_a_database_that_refuses_writes_answers_row_11_and_changes_nothing(
    server: ServerProcess, engine: Engine, database_url: str
) -> None:
    database = db_path(database_url)
    org = make_org(engine)
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert_row(send(client, Via.GET, params(org, "101", "sip1", 1)), 12)
        with closing(sqlite3.connect(database, isolation_level=None)) as conn:
            conn.execute("ALTER TABLE history RENAME TO history_elsewhere")
            try:
                for via in Via:
                    assert_row(send(client, via, params(org, "101", "sip2", 3)), 11)
                    assert_row(send(client, via, params(org, "102", "sip3", 1)), 11)
            finally:
                conn.execute("ALTER TABLE history_elsewhere RENAME TO history")
        where = {p.user_id: (p.extension, p.status) for p in list_presence(engine, org.name)}
        assert where == {"101": ("sip1", 1), "102": (None, 2), "103": (None, 2)}
        # Storage is back: the same request now works, and the history has no gap.
        assert_row(send(client, Via.GET, params(org, "101", "sip2", 3)), 12)
    events = read_history(engine, org.name).events
    assert [(e.prev_extension, e.new_extension) for e in events] == [
        (None, "sip1"),
        ("sip1", "sip2"),
    ]
    assert query(database, "SELECT count(*) FROM history") == [(2,)]
    assert_sound(database)
