"""The floor at a past instant, rebuilt from the history (on both engines)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.policies import Limit
from agentstatus.service import agents, history, policies
from agentstatus.service.deadlines import DeadlineRunner, claim_due
from agentstatus.service.replay import floor_at
from agentstatus.service.status_change import run_standalone, standalone_changes
from tests.support.changes import url_of
from tests.support.factories import OrgFixture, make_org


def change(engine: Engine, org: OrgFixture, user: str, sip: str | None, status: int) -> int:
    """Apply one wire change through the change path; the instant just after it."""
    command = StatusCommand(user, sip, status, Source.GET, code_hash=digest(org.code))
    result = run_standalone(url_of(engine), lambda changes: changes.apply(command))
    assert result.history_id is not None
    time.sleep(0.005)
    return now_ms()


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def test_the_floor_at_each_instant_of_a_known_history(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=2, extension_count=2)
    created = now_ms()
    after_login = change(any_engine, org, "101", "sip1", 1)
    after_lunch = change(any_engine, org, "101", "sip1", 3)
    after_other = change(any_engine, org, "102", "sip2", 1)
    time.sleep(0.005)  # created after the instant, not in its millisecond
    agents.add_agent(any_engine, org.name, "late", "Came later")

    def state(at: int) -> dict[str, tuple[str | None, int]]:
        return {
            a.user_id: (a.extension, a.status) for a in floor_at(any_engine, org.name, at).agents
        }

    assert state(created) == {"101": (None, 2), "102": (None, 2)}
    assert state(after_login) == {"101": ("sip1", 1), "102": (None, 2)}
    assert state(after_lunch) == {"101": ("sip1", 3), "102": (None, 2)}
    latest = state(after_other)
    assert latest == {"101": ("sip1", 3), "102": ("sip2", 1)}
    assert state(now_ms())["late"] == (None, 2)
    # The cursor is the last event shown: playing on from it gives what came after.
    assert (
        floor_at(any_engine, org.name, after_login).cursor
        < floor_at(any_engine, org.name, after_other).cursor
    )
    any_engine.dispose()


def test_a_limits_warning_does_not_move_the_floor(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=1, extension_count=1)
    change(any_engine, org, "101", "sip1", 3)
    entered = history.read_history(any_engine, org.name).events[0].at_ms
    policies.set_limit(any_engine, org.name, 3, Limit(1))  # plans the agent's deadline
    claimed = claim_due(any_engine, entered + 2000, 30_000)

    async def act() -> None:
        async with standalone_changes(url_of(any_engine)) as changes:
            await DeadlineRunner(any_engine, changes, lambda _: None).act(claimed)

    asyncio.run(act())
    warned = history.read_history(any_engine, org.name).events[-1]
    assert warned.policy == "limit:warn"
    (agent,) = floor_at(any_engine, org.name, warned.at_ms + 1).agents
    assert (agent.status, agent.since_ms) == (3, entered)  # since when it entered, still
