"""An agent's status at an instant and its changes, and the history newest first in
pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.agent_days import agent_now, changes_between, status_at
from agentstatus.service.errors import NotFound
from agentstatus.service.history import read_history
from tests.support.factories import make_org
from tests.support.past import write_past

T0 = 1_780_000_000_000
MINUTE = 60_000


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def test_the_status_at_an_instant(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=2, extension_count=1)
    write_past(
        any_engine,
        org.name,
        "101",
        T0,
        [(T0 + 10 * MINUTE, 1, "sip1"), (T0 + 20 * MINUTE, 3, "sip1")],
    )
    # Before any change: the status the first change left.
    assert status_at(any_engine, org.name, "101", T0) == 2
    assert status_at(any_engine, org.name, "101", T0 + 10 * MINUTE) == 2
    assert status_at(any_engine, org.name, "101", T0 + 10 * MINUTE + 1) == 1
    assert status_at(any_engine, org.name, "101", T0 + 60 * MINUTE) == 3
    # No history at all: nothing to tell (the page takes the current status).
    assert status_at(any_engine, org.name, "102", T0) is None
    changes = changes_between(any_engine, org.name, "101", T0 + 10 * MINUTE, T0 + 20 * MINUTE)
    assert [(c.prev_status, c.new_status) for c in changes] == [(2, 1)]
    now = agent_now(any_engine, org.name, "101")
    assert (now.status, now.extension, now.created_ms) == (3, "sip1", T0)
    with pytest.raises(NotFound):
        agent_now(any_engine, org.name, "nobody")


def test_history_newest_first_in_pages(any_engine: Engine) -> None:
    org = make_org(any_engine, agent_count=1, extension_count=1)
    write_past(
        any_engine,
        org.name,
        "101",
        T0,
        [(T0 + i * MINUTE, 1 if i % 2 else 3, "sip1") for i in range(1, 8)],
    )
    first = read_history(any_engine, org.name, user_id="101", newest_first=True, limit=3)
    assert first.next_after is None
    assert first.next_before is not None
    second = read_history(
        any_engine, org.name, user_id="101", newest_first=True, before=first.next_before, limit=3
    )
    third = read_history(
        any_engine, org.name, user_id="101", newest_first=True, before=second.next_before, limit=3
    )
    ids = [e.id for page in (first, second, third) for e in page.events]
    assert len(ids) == 7
    assert ids == sorted(ids, reverse=True)
    assert third.next_before is None
    oldest_first = read_history(any_engine, org.name, user_id="101", limit=10)
    assert [e.id for e in oldest_first.events] == sorted(ids)
