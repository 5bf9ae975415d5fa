"""One agent per extension and one extension per agent under real concurrency: many
requests released at the same instant over real HTTP, to one server process and to two
server processes sharing one SQLite file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine

from agentstatus.service.history import HistoryEvent, read_history
from agentstatus.service.presence import list_presence
from tests.support.compat import IN_USE_BODY, OK_BODY, Answer, params, race
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess

CROWD = 30


@pytest.fixture(scope="module")
def twin_server(
    shared_database_url: str,
    shared_server: ServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """A second server process on the very same SQLite file as ``shared_server``."""
    log = tmp_path_factory.mktemp("twin") / "server.log"
    with ServerProcess(shared_database_url, log) as process:
        yield process


def held(engine: Engine, org: OrgFixture) -> dict[str, str]:
    """Extension -> the agent holding it, failing if any extension is held twice."""
    holders: dict[str, str] = {}
    for p in list_presence(engine, org.name):
        if p.extension is not None:
            assert p.extension not in holders, f"{p.extension} is held twice"
            holders[p.extension] = p.user_id
    return holders


def all_events(engine: Engine, org: OrgFixture) -> list[HistoryEvent]:
    page = read_history(engine, org.name, limit=1000)
    assert page.next_after is None
    return page.events


def assert_history_is_a_valid_serial_story(engine: Engine, org: OrgFixture) -> None:
    """Replayed in commit order, every event starts where the agent's previous one ended,
    never takes an extension somebody else holds, and the replay ends at today's presence."""
    where: dict[str, tuple[str | None, int]] = {
        p.user_id: (None, 2) for p in list_presence(engine, org.name)
    }
    holders: dict[str, str] = {}
    for event in all_events(engine, org):
        assert (event.prev_extension, event.prev_status) == where[event.user_id]
        if event.prev_extension is not None:
            del holders[event.prev_extension]
        if event.new_extension is not None:
            assert event.new_extension not in holders, f"{event} takes a held extension"
            holders[event.new_extension] = event.user_id
        where[event.user_id] = (event.new_extension, event.new_status)
    assert {p.user_id: (p.extension, p.status) for p in list_presence(engine, org.name)} == where
    assert held(engine, org) == holders


def assert_one_winner(answers: Sequence[Answer]) -> None:
    assert all(a.status_code == 200 for a in answers), answers
    assert sum(a.body == OK_BODY for a in answers) == 1, answers
    assert sum(a.body == IN_USE_BODY for a in answers) == len(answers) - 1, answers


def crowd_org(engine: Engine) -> OrgFixture:
    return make_org(engine, agent_count=CROWD, extension_count=4)


def test_a_crowd_onto_one_extension_has_exactly_one_winner(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = crowd_org(shared_engine)
    answers = race([shared_server.base_url], [params(org, a, "sip1", 1) for a in org.agents])
    assert_one_winner(answers)
    (winner,) = [a for a, ans in zip(org.agents, answers, strict=True) if ans.body == OK_BODY]
    assert held(shared_engine, org) == {"sip1": winner}
    (event,) = all_events(shared_engine, org)
    assert (event.user_id, event.new_extension, event.new_status) == (winner, "sip1", 1)


def test_a_crowd_in_mixed_statuses_still_has_one_winner(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = crowd_org(shared_engine)
    requests = [params(org, a, "sip2", (1, 3, 5)[i % 3]) for i, a in enumerate(org.agents)]
    assert_one_winner(race([shared_server.base_url], requests))
    assert len(held(shared_engine, org)) == 1
    assert_history_is_a_valid_serial_story(shared_engine, org)


def test_one_agent_racing_onto_every_extension_ends_on_exactly_one(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=8)
    answers = race([shared_server.base_url], [params(org, "101", e, 1) for e in org.extensions])
    assert all(a.body == OK_BODY for a in answers), answers  # it moves each time
    holders = held(shared_engine, org)
    assert list(holders.values()) == ["101"]
    moves = all_events(shared_engine, org)
    assert len(moves) == len(org.extensions)
    assert moves[-1].new_extension in holders
    assert_history_is_a_valid_serial_story(shared_engine, org)


def test_two_processes_on_one_file_have_exactly_one_winner(
    shared_server: ServerProcess, twin_server: ServerProcess, shared_engine: Engine
) -> None:
    org = crowd_org(shared_engine)
    servers = [shared_server.base_url, twin_server.base_url]
    for extension in ("sip1", "sip2", "sip3"):
        free = [a for a in org.agents if a not in held(shared_engine, org).values()]
        answers = race(servers, [params(org, a, extension, 1) for a in free])
        assert_one_winner(answers)
    assert len(set(held(shared_engine, org).values())) == 3
    assert_history_is_a_valid_serial_story(shared_engine, org)


def test_one_agent_racing_through_two_processes_holds_one_extension(
    shared_server: ServerProcess, twin_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=6)
    servers = [shared_server.base_url, twin_server.base_url]
    answers = race(servers, [params(org, "101", e, 3) for e in org.extensions])
    assert all(a.body == OK_BODY for a in answers), answers
    assert list(held(shared_engine, org).values()) == ["101"]
    assert len(all_events(shared_engine, org)) == len(org.extensions)
    assert_history_is_a_valid_serial_story(shared_engine, org)


def test_a_free_for_all_across_two_processes_keeps_every_invariant(
    shared_server: ServerProcess, twin_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=12, extension_count=4)
    rng = random.Random(20261126)
    servers = [shared_server.base_url, twin_server.base_url]
    for _ in range(3):
        requests = [
            params(org, a, rng.choice(org.extensions), rng.choice([1, 1, 2, 3, 5]))
            for a in org.agents
            for _ in range(2)
        ]
        answers = race(servers, requests)
        assert {a.body["StatusErroMessage"] for a in answers} <= {
            "OK",
            "Extension is already in use",
        }
        assert_history_is_a_valid_serial_story(shared_engine, org)
