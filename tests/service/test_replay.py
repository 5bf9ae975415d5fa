"""The floor at a past instant, rebuilt from the history (on both engines)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.service import agents
from agentstatus.service.replay import floor_at
from agentstatus.service.status_change import run_standalone
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
