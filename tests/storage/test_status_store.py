"""The status engines, in process, on SQLite and on PostgreSQL: same suite, same answers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from agentstatus.app import create_status_store, open_database
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.service import organisations, presence
from agentstatus.service.history import read_history
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.schema import audit, history
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org


@pytest.fixture
def engine_url(any_database_url: str) -> str:
    return any_database_url


@dataclass
class Env:
    engine: Engine
    store: StatusChanges
    org: OrgFixture

    def command(
        self, user: str, extension: str | None, status: int | None, **kw: object
    ) -> StatusCommand:
        fields: dict[str, object] = {"code_hash": digest(self.org.code), "source": Source.GET}
        fields.update(kw)
        return StatusCommand(user, extension, status, **fields)  # type: ignore[arg-type]

    def history_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(history)).scalar_one())


@pytest.fixture
async def env(engine_url: str) -> AsyncIterator[Env]:
    engine = open_database(engine_url)
    store = StatusChanges(create_status_store(engine_url), lambda result: None)
    await store.start()
    try:
        yield Env(engine, store, make_org(engine, agent_count=40, extension_count=5))
    finally:
        await store.close()
        engine.dispose()


async def test_login_is_recorded(env: Env) -> None:
    result = await env.store.apply(env.command("101", "sip1", LOGIN))
    assert result.row is Row.OK
    assert result.history_id is not None
    assert result.change is not None
    assert result.change.new.extension == "sip1"
    (agent,) = [p for p in presence.list_presence(env.engine, env.org.name) if p.user_id == "101"]
    assert (agent.extension, agent.status) == ("sip1", LOGIN)
    event = read_history(env.engine, env.org.name).events[0]
    assert (event.prev_extension, event.new_extension) == (None, "sip1")
    assert (event.prev_status, event.new_status, event.source) == (LOGOUT, LOGIN, "GET")


async def test_every_rejection_row(env: Env) -> None:
    await env.store.apply(env.command("102", "sip2", LOGIN))
    cases = {
        Row.AUTHENTICATION_FAILED: env.command("101", "sip1", 1, code_hash=digest("wrong")),
        Row.UNKNOWN_EXTENSION: env.command("101", "nope", 1),
        Row.STATUS_NOT_SUPPORTED: env.command("101", "sip1", 4),
        Row.EXTENSION_IN_USE: env.command("101", "sip2", 1),
    }
    for row, command in cases.items():
        assert (await env.store.apply(command)).row is row
    assert (await env.store.apply(env.command("unknown", "sip1", 1))).row is (
        Row.AUTHENTICATION_FAILED
    )
    huge = await env.store.apply(env.command("101", "sip1", 10**30))
    assert huge.row is Row.STATUS_NOT_SUPPORTED
    with env.engine.connect() as conn:
        rows = sorted(r.outcome_row for r in conn.execute(select(audit.c.outcome_row)))
    assert rows == [6, 6, 8, 9, 9, 10]
    assert env.history_count() == 1


async def test_allowlist_applies_to_codes_not_to_admin_commands(env: Env) -> None:
    organisations.set_allowlist(env.engine, env.org.name, ["10.0.0.0/8"])
    outside = env.command("101", "sip1", LOGIN, client_addr="192.0.2.1")
    assert (await env.store.apply(outside)).row is Row.ADDRESS_NOT_ALLOWED
    inside = env.command("101", "sip1", LOGIN, client_addr="10.1.2.3")
    assert (await env.store.apply(inside)).row is Row.OK
    org_id = (await env.store.apply(inside)).org_id
    admin = StatusCommand("101", None, LOGOUT, Source.ADMIN, org_id=org_id)
    result = await env.store.apply(admin)
    assert result.row is Row.OK
    assert result.change is not None


async def test_repeat_and_logout_twice_record_nothing(env: Env) -> None:
    for status in (LOGIN, LOGIN, 3, 3, LOGOUT, LOGOUT):
        assert (await env.store.apply(env.command("101", "sip1", status))).row is Row.OK
    assert env.history_count() == 3


async def test_many_agents_racing_for_one_extension(env: Env) -> None:
    for _round in range(3):
        commands = [env.command(user, "sip3", LOGIN) for user in env.org.agents]
        results = await asyncio.gather(*(env.store.apply(c) for c in commands))
        rows = [r.row for r in results]
        assert rows.count(Row.OK) == 1
        assert rows.count(Row.EXTENSION_IN_USE) == len(commands) - 1
        holders = [p for p in presence.list_presence(env.engine, env.org.name) if p.extension]
        assert len(holders) == 1
        winner = holders[0].user_id
        assert (await env.store.apply(env.command(winner, "sip3", LOGOUT))).row is Row.OK


async def test_one_agent_racing_onto_every_extension(env: Env) -> None:
    commands = [env.command("105", sip, LOGIN) for sip in env.org.extensions] * 4
    results = await asyncio.gather(*(env.store.apply(c) for c in commands))
    assert all(r.row is Row.OK for r in results)
    held = [p for p in presence.list_presence(env.engine, env.org.name) if p.extension]
    assert len(held) == 1
    assert held[0].user_id == "105"
    events = read_history(env.engine, env.org.name, limit=1000).events
    for before, after in itertools.pairwise(events):
        assert after.prev_extension == before.new_extension
        assert after.prev_status == before.new_status
    assert events[-1].new_extension == held[0].extension
