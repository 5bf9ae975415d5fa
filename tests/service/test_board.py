"""A page of the live board: its rows in the shown name order, the search, the status,
and the counts (on both engines)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.events.feed import CommitFence
from agentstatus.service import agents
from agentstatus.service.board import BoardPage, board_page
from agentstatus.service.status_change import run_standalone
from tests.support.changes import url_of
from tests.support.factories import OrgFixture, make_org

AVAILABLE = 1
LUNCH = 3


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def org(any_engine: Engine) -> OrgFixture:
    """Agents 101-103 ("Agent 1"...), "004" named Zed and "aaa" without a name; 101 is
    available at sip1 and 102 at lunch at sip2."""
    org = make_org(any_engine, agent_count=3, extension_count=2)
    agents.add_agent(any_engine, org.name, "004", "Zed")
    agents.add_agent(any_engine, org.name, "aaa", "")
    change(any_engine, org, StatusCommand("101", "sip1", AVAILABLE, Source.GET))
    change(any_engine, org, StatusCommand("102", "sip2", LUNCH, Source.GET))
    return org


def change(engine: Engine, org: OrgFixture, command: StatusCommand) -> None:
    """Apply one wire change of the organisation through the change path."""
    command = replace(command, code_hash=digest(org.code))
    result = run_standalone(url_of(engine), lambda changes: changes.apply(command))
    assert result.history_id is not None


def page(
    engine: Engine, org: OrgFixture, needle: str = "", status: int | None = None, offset: int = 0
) -> BoardPage:
    return board_page(
        engine, CommitFence(engine), org.name, needle=needle, status=status, offset=offset, limit=2
    )


def test_pages_follow_the_shown_name_and_count_every_active_agent(
    any_engine: Engine, org: OrgFixture
) -> None:
    first = page(any_engine, org)
    assert [a.user_id for a in first.agents] == ["aaa", "101"]
    assert (first.matching, first.total) == (5, 5)
    assert first.counts == {LOGOUT: 3, AVAILABLE: 1, LUNCH: 1}
    assert first.cursor > 0
    assert [a.user_id for a in page(any_engine, org, offset=2).agents] == ["102", "103"]
    assert [a.user_id for a in page(any_engine, org, offset=4).agents] == ["004"]


def test_a_search_matches_a_part_of_the_name_user_id_or_extension_without_case(
    any_engine: Engine, org: OrgFixture
) -> None:
    by_extension = page(any_engine, org, "SIP2")
    assert [(a.user_id, a.extension, a.status) for a in by_extension.agents] == [
        ("102", "sip2", LUNCH)
    ]
    assert (by_extension.matching, by_extension.total) == (1, 5)
    assert page(any_engine, org, "zE").matching == 1
    assert page(any_engine, org, "00").matching == 1
    assert page(any_engine, org, "%").matching == 0  # a literal, not a wildcard


def test_a_status_narrows_the_page_with_or_without_a_search(
    any_engine: Engine, org: OrgFixture
) -> None:
    logged_out = page(any_engine, org, status=LOGOUT)
    assert [a.user_id for a in logged_out.agents] == ["aaa", "103"]
    assert logged_out.matching == 3
    available = page(any_engine, org, "agent", status=AVAILABLE)
    assert [a.user_id for a in available.agents] == ["101"]
    assert available.matching == 1
