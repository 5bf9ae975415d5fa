"""The management commands beyond the contract: organisations, agents, extensions,
statuses and tokens, checked in the database and against a real server."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from agentstatus.service import agents, extensions, organisations, statuses, tokens
from agentstatus.service.tokens import Role
from tests.cli.helpers import AUTH_FAILED_BODY, OK_BODY, invoke, ok, set_status
from tests.conftest import OrgFactory
from tests.support.server import ServerProcess


def test_org_list_table_and_json(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory(agent_count=2, extension_count=3)
    listed = json.loads(ok(shared_database_url, "org", "list", "--json").stdout)
    mine = next(o for o in listed if o["name"] == org.name)
    assert (mine["agents"], mine["extensions"], mine["allowlist"]) == (2, 3, None)
    assert mine["created"].endswith("Z")
    table = ok(shared_database_url, "org", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "AGENTS", "EXTENSIONS", "ALLOW-LIST", "CREATED"]
    assert any(line.split()[:4] == [org.name, "2", "3", "any"] for line in table[1:])


def test_rotate_code_replaces_the_code_at_once(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory()
    base = shared_server.base_url
    assert set_status(base, org.code, org.agents[0], org.extensions[0]) == (200, OK_BODY)
    new_code = ok(shared_database_url, "org", "rotate-code", org.name).last_line
    assert new_code != org.code
    assert len(new_code) * 4 >= 128
    assert set_status(base, org.code, org.agents[0], org.extensions[0], 3) == (
        200,
        AUTH_FAILED_BODY,
    )
    assert set_status(base, new_code, org.agents[0], org.extensions[0], 3) == (200, OK_BODY)
    chosen = ok(shared_database_url, "org", "rotate-code", org.name, "--code", "chosen-1")
    assert chosen.last_line == "chosen-1"
    assert set_status(base, "chosen-1", org.agents[0], org.extensions[0], 1) == (200, OK_BODY)


def test_allowlist_refuses_other_addresses_until_cleared(
    shared_database_url: str,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    shared_server: ServerProcess,
) -> None:
    org = shared_org_factory()
    base = shared_server.base_url
    done = ok(shared_database_url, "org", "allowlist", org.name, "203.0.113.0/24", "2001:db8::1")
    assert "203.0.113.0/24" in done.stdout
    found = next(o for o in organisations.list_organisations(shared_engine) if o.name == org.name)
    assert found.allowlist is not None
    assert "203.0.113.0/24" in found.allowlist
    status, body = set_status(base, org.code, org.agents[0], org.extensions[0])
    assert status == 403
    assert body == AUTH_FAILED_BODY
    ok(shared_database_url, "org", "allowlist", org.name, "127.0.0.1")
    assert set_status(base, org.code, org.agents[0], org.extensions[0]) == (200, OK_BODY)
    ok(shared_database_url, "org", "allowlist", org.name, "--clear")
    found = next(o for o in organisations.list_organisations(shared_engine) if o.name == org.name)
    assert found.allowlist is None


def test_agent_rename_and_list(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory(agent_count=2)
    ok(shared_database_url, "agent", "rename", org.name, org.agents[0], "Dana Levi")
    assert agents.list_agents(shared_engine, org.name)[0].name == "Dana Levi"
    listed = json.loads(ok(shared_database_url, "agent", "list", org.name, "--json").stdout)
    assert listed == [
        {"user_id": org.agents[0], "name": "Dana Levi", "active": True},
        {"user_id": org.agents[1], "name": "Agent 2", "active": True},
    ]
    table = ok(shared_database_url, "agent", "list", org.name).stdout
    assert "Dana Levi" in table
    assert table.splitlines()[0].split() == ["USER_ID", "NAME", "ACTIVE"]


def test_deactivate_logs_out_and_refuses_until_activated(
    shared_database_url: str,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    shared_server: ServerProcess,
) -> None:
    org = shared_org_factory()
    base, user, ext = shared_server.base_url, org.agents[0], org.extensions[0]
    assert set_status(base, org.code, user, ext) == (200, OK_BODY)
    ok(shared_database_url, "agent", "deactivate", org.name, user)
    assert agents.list_agents(shared_engine, org.name)[0].active is False
    assert extensions.list_extensions(shared_engine, org.name)[0].held_by is None
    assert set_status(base, org.code, user, ext) == (200, AUTH_FAILED_BODY)
    history = json.loads(ok(shared_database_url, "history", org.name, "--json").stdout)
    assert [e["source"] for e in history["events"]] == ["GET", "admin"]
    ok(shared_database_url, "agent", "activate", org.name, user)
    assert agents.list_agents(shared_engine, org.name)[0].active is True
    assert set_status(base, org.code, user, ext) == (200, OK_BODY)


def test_extension_list_and_remove_a_held_extension(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory(agent_count=1, extension_count=2)
    user, ext = org.agents[0], org.extensions[0]
    assert set_status(shared_server.base_url, org.code, user, ext) == (200, OK_BODY)
    listed = json.loads(ok(shared_database_url, "extension", "list", org.name, "--json").stdout)
    assert listed == [
        {"extension": ext, "name": "Desk 1", "held_by": user},
        {"extension": org.extensions[1], "name": "Desk 2", "held_by": None},
    ]
    ok(shared_database_url, "extension", "remove", org.name, ext)
    remaining = ok(shared_database_url, "extension", "list", org.name).stdout
    assert ext not in remaining.split()
    presence = json.loads(ok(shared_database_url, "presence", org.name, "--json").stdout)
    assert (presence[0]["extension"], presence[0]["status"]) == (None, 2)
    status, body = set_status(shared_server.base_url, org.code, user, ext)
    assert body == {"Status": 3, "StatusError": 3, "StatusErroMessage": "No extension found"}
    assert status == 200


def test_status_list_color_and_available(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    listed = json.loads(ok(shared_database_url, "status", "list", org.name, "--json").stdout)
    no_limit = {"limit_seconds": None, "limit_action": None}
    assert listed[:2] == [
        {"id": 1, "name": "Login", "color": "#2ecc71", "available": True, "enabled": True}
        | no_limit,
        {"id": 2, "name": "Logout", "color": "#95a5a6", "available": False, "enabled": True}
        | no_limit,
    ]
    ok(shared_database_url, "status", "color", org.name, "3", "#AABBCC")
    ok(shared_database_url, "status", "available", org.name, "3", "yes")
    lunch = statuses.list_statuses(shared_engine, org.name)[2]
    assert (lunch.id, lunch.color, lunch.available) == (3, "#aabbcc", True)
    ok(shared_database_url, "status", "available", org.name, "3", "no")
    assert statuses.list_statuses(shared_engine, org.name)[2].available is False
    ok(shared_database_url, "status", "add", org.name, "40", "Coaching", "--color", "#010203")
    ok(shared_database_url, "status", "add", org.name, "41", "Outbound", "--available")
    added = {s.id: s for s in statuses.list_statuses(shared_engine, org.name) if s.id >= 40}
    assert (added[40].color, added[40].available) == ("#010203", False)
    assert added[41].available is True
    table = ok(shared_database_url, "status", "list", org.name).stdout
    assert any(line.split()[:2] == ["40", "Coaching"] for line in table.splitlines())


def test_a_disabled_status_is_refused_until_enabled(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory()
    base, user, ext = shared_server.base_url, org.agents[0], org.extensions[0]
    ok(shared_database_url, "status", "disable", org.name, "3")
    assert set_status(base, org.code, user, ext, 3) == (
        200,
        {"Status": 4, "StatusError": 0, "StatusErroMessage": "Status not support"},
    )
    ok(shared_database_url, "status", "enable", org.name, "3")
    assert set_status(base, org.code, user, ext, 3) == (200, OK_BODY)


def test_token_list_and_revoke(shared_database_url: str, shared_engine: Engine) -> None:
    org = organisations.create_organisation(shared_engine, "tokens-org").name
    made = ok(
        shared_database_url,
        "token",
        "create",
        "--role",
        "supervisor",
        "--org",
        org,
        "--label",
        "wb",
    )
    secret = made.last_line
    info = tokens.verify_token(shared_engine, secret)
    assert info is not None
    listing = ok(shared_database_url, "token", "list").stdout
    assert secret not in listing
    row = next(line.split() for line in listing.splitlines() if line.split()[0] == str(info.id))
    assert row == [str(info.id), "supervisor", org, "wb"]
    ok(shared_database_url, "token", "revoke", str(info.id))
    assert tokens.verify_token(shared_engine, secret) is None
    assert info.id not in [t.id for t in tokens.list_tokens(shared_engine)]
    admin = tokens.create_token(shared_engine, Role.ADMIN)
    rows = [line.split() for line in ok(shared_database_url, "token", "list").stdout.splitlines()]
    assert [str(admin.info.id), "admin", "*"] in rows
    assert invoke(shared_database_url, "token", "revoke", str(info.id)).code == 1
