"""The event stream over real HTTP: snapshot, live events, other instances, resuming."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.tokens import Role, create_token
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess
from tests.support.sse import Subscriber


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL, each test on its own organisation."""
    return shared_database_url_on_each_engine


@pytest.fixture
def url(shared_database_url: str) -> str:
    return shared_database_url


@pytest.fixture
def engine(shared_engine: Engine) -> Engine:
    return shared_engine


def change(base: str, org: OrgFixture, user: str, ext: str, status: int) -> None:
    answer = httpx.get(
        f"{base}/UserLogin/SetStatusFromAPI",
        params={"Code": org.code, "UserId": user, "ExtensionUser": ext, "Status": status},
    ).json()
    assert answer["StatusErroMessage"] == "OK"


def events_url(server: ServerProcess, org: OrgFixture) -> str:
    return f"{server.base_url}/api/v1/orgs/{org.name}/events"


def test_snapshot_then_live_events(engine: Engine, shared_server: ServerProcess) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    change(shared_server.base_url, org, "101", "sip1", 1)
    with Subscriber(events_url(shared_server, org), token) as sub:
        (snapshot,) = sub.wait_for(1)
        assert snapshot.event == "snapshot"
        agents = {a["user_id"]: a for a in snapshot.data["agents"]}  # type: ignore[attr-defined]
        assert agents["101"]["extension"] == "sip1"
        assert agents["102"]["extension"] is None
        change(shared_server.base_url, org, "101", "sip1", 3)
        change(shared_server.base_url, org, "102", "sip2", 1)
        change(shared_server.base_url, org, "101", "sip1", 2)
        events = sub.wait_for(4)[1:]
    assert [e.event for e in events] == ["agent.status", "agent.login", "agent.logout"]
    assert snapshot.id is not None
    ids = [e.id for e in events]
    assert ids == sorted(ids)
    assert ids[0] is not None
    assert ids[0] > snapshot.id
    assert events[0].data["previous"] == {"extension": "sip1", "status": 1}
    assert events[0].data["new"] == {"extension": "sip1", "status": 3}


def test_stream_needs_a_token_for_the_org(engine: Engine, shared_server: ServerProcess) -> None:
    org = make_org(engine)
    other = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, other.name).token
    assert httpx.get(events_url(shared_server, org)).status_code == 401
    scoped = httpx.get(events_url(shared_server, org), headers={"Authorization": f"Bearer {token}"})
    assert scoped.status_code == 403


def test_resume_after_restart_has_no_gap_and_no_duplicate(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine, agent_count=5, extension_count=5)
    token = create_token(engine, Role.ADMIN).token
    server = ServerProcess(url, tmp_path / "s.log").start()
    try:
        with Subscriber(events_url(server, org), token) as sub:
            for i in range(3):
                change(server.base_url, org, org.agents[i], org.extensions[i], 1)
            seen = sub.wait_for(4)[1:]
        last = seen[-1].id
        server.stop()
        # Changes while the subscriber is away, across a restart.
        server.start()
        for i in range(3, 5):
            change(server.base_url, org, org.agents[i], org.extensions[i], 1)
        change(server.base_url, org, org.agents[0], org.extensions[0], 5)
        with Subscriber(events_url(server, org), token, last_event_id=last) as sub:
            resumed = sub.wait_for(3)
            time.sleep(0.5)
            resumed = list(sub.events)
    finally:
        server.stop()
    assert all(e.event != "snapshot" for e in resumed)
    assert [e.data["user_id"] for e in resumed] == [org.agents[3], org.agents[4], org.agents[0]]
    all_ids = [e.id for e in seen + resumed]
    assert len(all_ids) == len(set(all_ids)) == 6
    assert all_ids == sorted(all_ids)  # type: ignore[type-var]


def test_a_stop_ends_the_open_streams_at_once(url: str, engine: Engine, tmp_path: Path) -> None:
    """SIGTERM ends each open stream with the end of its response (its client reconnects
    elsewhere), not after the HTTP server's 10 s grace for open responses, cut off."""
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    server = ServerProcess(url, tmp_path / "s.log").start()
    try:
        with Subscriber(events_url(server, org), token) as sub:
            sub.wait_for(1)
            assert server.process is not None
            server.process.terminate()
            sub.wait_ended_cleanly(timeout=5)
            server.process.wait(5)  # not its 10 s grace
    finally:
        server.stop()


def test_event_from_another_instance_arrives_within_a_second(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    """Instances share events through PostgreSQL (on SQLite there is one process)."""
    url = postgres_databases.create()
    engine = open_database(url)
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name).token
    with (
        ServerProcess(url, tmp_path / "a.log") as a,
        ServerProcess(url, tmp_path / "b.log") as b,
        Subscriber(events_url(b, org), token) as sub,
    ):
        sub.wait_for(1)
        delays = []
        for i, user in enumerate(org.agents):
            started = time.monotonic()
            change(a.base_url, org, user, org.extensions[i], 1)
            sub.wait_for(2 + i, timeout=5)
            delays.append(time.monotonic() - started)
    engine.dispose()
    assert max(delays) < 1.0, delays
