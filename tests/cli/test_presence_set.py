"""``agentstatus presence set``: a supervisor's change from the command line, recorded
with source ``supervisor``, the reason and ``cli:`` with the OS login name."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from agentstatus.service import presence
from tests.cli.helpers import assert_user_error, invoke, ok
from tests.conftest import OrgFactory

TRAINING = 11
AS_DANA = {"LOGNAME": "dana", "USER": "dana"}


def _history(database_url: str, org: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = json.loads(ok(database_url, "history", org, "--json").stdout)[
        "events"
    ]
    return events


def test_presence_set_records_source_reason_and_login_name(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    args = ("presence", "set", org.name, org.agents[0], str(TRAINING), "--extension", "sip1")
    done = invoke(shared_database_url, *args, "--reason", "Onboarding", env=AS_DANA)
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == f"{org.agents[0]}: {TRAINING} Training at sip1"
    now = {p.user_id: p for p in presence.list_presence(shared_engine, org.name)}
    assert (now[org.agents[0]].extension, now[org.agents[0]].status) == ("sip1", TRAINING)
    last = _history(shared_database_url, org.name)[-1]
    assert (last["source"], last["reason"], last["actor"]) == (
        "supervisor",
        "Onboarding",
        "cli:dana",
    )
    # Without --extension: where the agent is; --json prints the presence's one shape.
    moved = invoke(shared_database_url, "presence", "set", org.name, org.agents[0], "3", "--json")
    assert json.loads(moved.stdout) == presence.list_presence(shared_engine, org.name)[0].as_json()
    assert "reason" not in _history(shared_database_url, org.name)[-1]


def test_presence_org_still_shows_the_floor(
    shared_database_url: str, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(agent_count=1, extension_count=1)
    shown = json.loads(ok(shared_database_url, "presence", org.name, "--json").stdout)
    assert shown == json.loads(ok(shared_database_url, "presence", "--json", org.name).stdout)
    assert shown == json.loads(
        ok(shared_database_url, "presence", "show", org.name, "--json").stdout
    )


def test_presence_set_refusals_are_one_line_each(
    shared_database_url: str, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    user, other = org.agents
    ok(shared_database_url, "presence", "set", org.name, other, "1", "--extension", "sip1")
    cases = [
        (("999", "1", "--extension", "sip1"), "no agent '999'"),
        ((user, "77", "--extension", "sip2"), "status 77 is not one of"),
        ((user, "1", "--extension", "sip9"), "no extension 'sip9'"),
        ((user, "1"), "name the extension"),
        ((user, "1", "--extension", "sip1"), "extension 'sip1' is held by another agent"),
        ((user, "1", "--extension", "sip2", "--reason", "x" * 201), "longer than 200"),
    ]
    for args, message in cases:
        assert_user_error(invoke(shared_database_url, "presence", "set", org.name, *args), message)
    assert [e["user_id"] for e in _history(shared_database_url, org.name)] == [other]
