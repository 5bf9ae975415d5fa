"""The PostgreSQL engine's compare-and-set, with the race forced: another transaction
changes the agent between the facts being read and the change being written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import Engine, make_url

from agentstatus.app import create_status_store, open_database
from agentstatus.domain.catalogue import LOGIN
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.service.history import read_history
from agentstatus.service.presence import list_presence
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.database import libpq_conninfo
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import PostgresDatabases

LUNCH, MEETING = 3, 5


@pytest.fixture
def pg_url(postgres_databases: PostgresDatabases) -> str:
    return postgres_databases.create()


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[StatusChanges]:
    store = StatusChanges(create_status_store(pg_url), lambda result: None)
    await store.start()
    yield store
    await store.close()


@pytest.fixture
def engine(pg_url: str) -> Engine:
    return open_database(pg_url)


def command(org: OrgFixture, user: str, extension: str, status: int) -> StatusCommand:
    return StatusCommand(user, extension, status, Source.GET, code_hash=digest(org.code))


async def test_a_change_that_lost_the_race_is_decided_again_on_fresh_facts(
    pg_url: str, engine: Engine, store: StatusChanges
) -> None:
    org = make_org(engine)
    assert (await store.apply(command(org, "101", "sip1", LOGIN))).row is Row.OK
    with psycopg.connect(libpq_conninfo(make_url(pg_url))) as other:
        # Another writer moves the agent to lunch and holds its row until it commits.
        other.execute(
            "UPDATE presence SET status = %s, version = version + 1 WHERE agent_id ="
            " (SELECT id FROM agents WHERE user_id = '101' AND org_id ="
            "  (SELECT id FROM organisations WHERE name = %s))",
            (LUNCH, org.name),
        )
        # Our request reads the committed facts (logged in), decides 1 -> 5, and its
        # write waits on the other writer's row lock.
        racing = asyncio.ensure_future(store.apply(command(org, "101", "sip1", MEETING)))
        await asyncio.sleep(0.5)
        assert not racing.done()
        other.commit()
    result = await asyncio.wait_for(racing, 10)
    assert result.row is Row.OK
    assert result.change is not None
    # The write found the row changed, so the request was decided again: from lunch.
    assert result.change.previous.status == LUNCH
    assert result.change.new.status == MEETING
    last = read_history(engine, org.name).events[-1]
    assert (last.prev_status, last.new_status) == (LUNCH, MEETING)
    (agent,) = [p for p in list_presence(engine, org.name) if p.user_id == "101"]
    assert (agent.extension, agent.status) == ("sip1", MEETING)
    engine.dispose()
