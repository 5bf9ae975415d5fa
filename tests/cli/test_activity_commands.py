"""What agents did, from the command line: presence, force-logout, history and report,
after real requests to a real server."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace

from sqlalchemy import Engine, insert, select

from agentstatus.cli import state
from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.catalogue import LOGIN
from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.event_types import OVERDUE_EVENT, WARN_POLICY
from agentstatus.service import presence
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.storage.schema import agents, history
from tests.cli.helpers import OK_BODY, ok, set_status
from tests.conftest import OrgFactory
from tests.support.factories import OrgFixture
from tests.support.past import write_past
from tests.support.server import ServerProcess

LUNCH = 3


def log_in_all(server: ServerProcess, org: OrgFixture, status: int = 1) -> None:
    for user, ext in zip(org.agents, org.extensions, strict=True):
        assert set_status(server.base_url, org.code, user, ext, status) == (200, OK_BODY)


def test_presence_json_shows_where_each_agent_is(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    before = to_iso(now_ms() - 1)
    assert set_status(shared_server.base_url, org.code, org.agents[0], "sip2", 3) == (
        200,
        OK_BODY,
    )
    rows = json.loads(ok(shared_database_url, "presence", org.name, "--json").stdout)
    assert [(r["user_id"], r["extension"], r["status"]) for r in rows] == [
        (org.agents[0], "sip2", 3),
        (org.agents[1], None, 2),
    ]
    assert rows[0]["since"] >= before
    table = ok(shared_database_url, "presence", org.name).stdout.splitlines()
    assert table[0].split() == ["USER_ID", "NAME", "EXTENSION", "STATUS", "SINCE"]
    assert "sip2" in table[1]
    assert "Lunch break" in table[1]


def test_force_logout_one_agent(
    shared_database_url: str,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    shared_server: ServerProcess,
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    log_in_all(shared_server, org)
    done = ok(shared_database_url, "force-logout", org.name, org.agents[0])
    assert done.stdout.strip() == f"logged out {org.agents[0]}"
    now = {p.user_id: p for p in presence.list_presence(shared_engine, org.name)}
    assert (now[org.agents[0]].extension, now[org.agents[0]].status) == (None, 2)
    assert now[org.agents[1]].extension == org.extensions[1]
    again = ok(shared_database_url, "force-logout", org.name, org.agents[0])
    assert again.stdout.strip() == f"{org.agents[0]} was already logged out"


def test_force_logout_everyone(
    shared_database_url: str,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    shared_server: ServerProcess,
) -> None:
    org = shared_org_factory(agent_count=3, extension_count=3)
    log_in_all(shared_server, org)
    done = ok(shared_database_url, "force-logout", org.name, "--all")
    assert done.stdout.strip() == f"logged out 3 agent(s) of {org.name}"
    assert {p.extension for p in presence.list_presence(shared_engine, org.name)} == {None}
    history = json.loads(ok(shared_database_url, "history", org.name, "--json").stdout)
    assert [e["source"] for e in history["events"]] == ["GET"] * 3 + ["admin"] * 3
    assert {e.get("actor") for e in history["events"][3:]} == {state.cli_actor()}
    assert (
        "logged out 0 agent(s)" in ok(shared_database_url, "force-logout", org.name, "--all").stdout
    )


def test_history_json_filters_and_pages(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    log_in_all(shared_server, org)
    log_in_all(shared_server, org, status=3)
    everything = json.loads(ok(shared_database_url, "history", org.name, "--json").stdout)
    events = everything["events"]
    assert everything["next_after"] is None
    assert len(events) == 4
    first = events[0]
    assert first["user_id"] == org.agents[0]
    assert first["previous"] == {"extension": None, "status": 2}
    assert first["new"] == {"extension": org.extensions[0], "status": 1}
    assert (first["source"], first["client_addr"]) == ("GET", "127.0.0.1")

    only = json.loads(
        ok(shared_database_url, "history", org.name, "--user", org.agents[1], "--json").stdout
    )
    assert [e["user_id"] for e in only["events"]] == [org.agents[1]] * 2

    page = json.loads(ok(shared_database_url, "history", org.name, "--limit", "3", "--json").stdout)
    assert [e["id"] for e in page["events"]] == [e["id"] for e in events[:3]]
    assert page["next_after"] == events[2]["id"]
    rest = ok(
        shared_database_url, "history", org.name, "--after", str(page["next_after"]), "--json"
    )
    assert [e["id"] for e in json.loads(rest.stdout)["events"]] == [events[3]["id"]]

    window = ok(shared_database_url, "history", org.name, "--from", events[3]["at"], "--json")
    assert events[3]["id"] in [e["id"] for e in json.loads(window.stdout)["events"]]
    empty = ok(shared_database_url, "history", org.name, "--to", "2000-01-01", "--json")
    assert json.loads(empty.stdout) == {"events": [], "next_after": None}


def test_history_table_says_how_to_continue(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    log_in_all(shared_server, org)
    table = ok(shared_database_url, "history", org.name, "--limit", "1").stdout.splitlines()
    assert table[0].split() == ["ID", "AT", "USER_ID", "EVENT", "WHAT", "SOURCE"]
    assert f"agent.login  2@- → 1@{org.extensions[0]}" in table[1]
    assert table[-1].startswith("more: --after ")


def test_report_in_every_format(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory(agent_count=2, extension_count=2)
    log_in_all(shared_server, org)
    rows = json.loads(ok(shared_database_url, "report", org.name, "--format", "json").stdout)
    by_agent = {(r["user_id"], r["status"]) for r in rows}
    assert (org.agents[0], 1) in by_agent
    assert (org.agents[1], 1) in by_agent
    assert all(r["seconds"] >= 0 for r in rows)
    login = next(r for r in rows if r["status"] == 1)
    assert login["status_name"] == "Login"

    parsed = list(
        csv.DictReader(
            io.StringIO(ok(shared_database_url, "report", org.name, "--format", "csv").stdout)
        )
    )
    assert {(r["user_id"], r["status"], r["status_name"]) for r in parsed} >= {
        (org.agents[0], "1", "Login")
    }

    one = json.loads(
        ok(
            shared_database_url, "report", org.name, "--user", org.agents[1], "--format", "json"
        ).stdout
    )
    assert {r["user_id"] for r in one} == {org.agents[1]}

    table = ok(shared_database_url, "report", org.name).stdout.splitlines()
    assert table[0].split() == ["USER_ID", "NAME", "STATUS", "SECONDS", "OVER_LIMIT"]
    assert any("1 Login" in line for line in table[1:])

    past = ok(shared_database_url, "report", org.name, "--from", "2001-01-01", "--to", "2001-01-02")
    assert past.stdout.strip().splitlines()[-1] == "(none)"


def test_history_table_names_each_event_calls_and_warnings_included(
    database_url: str, engine: Engine, org_factory: OrgFactory
) -> None:
    org = org_factory(agent_count=1, extension_count=1)
    user, ext = org.agents[0], org.extensions[0]
    at = now_ms() - 600_000
    write_past(engine, org.name, user, at - 1000, [(at, LOGIN, ext), (at + 1000, LUNCH, ext)])
    call = Call(user + "-call", ext, Direction.IN, CallState.RINGING, "Dana", "0501234567", "", at)
    with engine.connect() as conn:
        oid = org_id(conn, org.name)
    assert store_calls(engine, oid, [Changed(CallChange.STARTED, call)])
    out = replace(call, id=user + "-out", direction=Direction.OUT, dialled="035551234")
    assert store_calls(engine, oid, [Changed(CallChange.ENDED, out)])
    with engine.begin() as conn:  # a limit's warning, as the deadline runner writes it
        agent_id = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user)
        ).scalar_one()
        conn.execute(
            insert(history).values(
                org_id=oid,
                agent_id=agent_id,
                user_id=user,
                prev_extension=ext,
                new_extension=ext,
                prev_status=LUNCH,
                new_status=LUNCH,
                at_ms=at + 5000,
                source="system",
                policy=WARN_POLICY,
                kind=OVERDUE_EVENT,
                due_ms=at + 4000,
            )
        )
    table = ok(database_url, "history", org.name).stdout.splitlines()
    assert table[0].split() == ["ID", "AT", "USER_ID", "EVENT", "WHAT", "SOURCE"]
    rows = [line.split(None, 3)[3] for line in table[1:]]  # from EVENT on
    assert [r.split()[0] for r in rows] == [
        "agent.login",
        "agent.status",
        "call.started",
        "call.ended",
        "agent.overdue",
    ]
    assert f"2@- → 1@{ext}" in rows[0]
    assert f"1@{ext} → 3@{ext}" in rows[1]
    assert re.search(rf"call\.started +{ext} in from 0501234567 \(Dana\) +pbx$", rows[2])
    assert re.search(rf"call\.ended +{ext} out to 035551234 +pbx$", rows[3])
    due = to_iso(at + 4000)
    assert re.search(rf"agent\.overdue +still 3@{ext}, limit passed at {due} +system$", rows[4])
    # --json is what it was: the call's details, the kind in the policy.
    events = json.loads(ok(database_url, "history", org.name, "--json").stdout)["events"]
    assert events[2]["call"]["caller_number"] == "0501234567"
    assert [e["policy"] for e in events] == [None, None, "call:started", "call:ended", WARN_POLICY]
