"""``panel-link``, ``panel-links``, ``panel-link-revoke`` and ``org embed-origins``: the
link printed last works against a real server, the Code is not in it, refusals are one
line."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import Engine

from agentstatus.service import embed_origins
from tests.cli.helpers import assert_user_error, invoke, ok, run_cli
from tests.conftest import OrgFactory
from tests.support.server import ServerProcess

LINK = re.compile(r"(?P<base>https?://[^/]+(/[^#]*)?)/panel/(?P<org>[\w-]+)#(?P<token>asp_\S+)")


def _state(server: ServerProcess, url: str) -> httpx.Response:
    found = LINK.fullmatch(url)
    assert found, url
    return httpx.get(
        f"{server.base_url}/panel/{found['org']}/api/state",
        headers={"authorization": f"Bearer {found['token']}"},
        timeout=10,
    )


def test_the_last_line_is_a_working_link(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory()
    made = ok(shared_database_url, "panel-link", org.name, "101", "--extension", "sip2")
    assert "101" in made.stdout
    assert "at extension sip2" in made.stdout
    assert org.code not in made.stdout
    url = made.last_line
    assert url.startswith("http://127.0.0.1:8000/panel/")  # the settings' host and port
    state = _state(shared_server, url).json()
    assert state["agent"]["user_id"] == "101"
    assert state["fixed_extension"] == "sip2"


def test_base_url_and_public_url(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    given = ok(
        shared_database_url, "panel-link", org.name, "101", "--base-url", "https://s.example/as/"
    )
    assert given.last_line.startswith(f"https://s.example/as/panel/{org.name}#asp_")
    public = run_cli(
        shared_database_url,
        "panel-link",
        org.name,
        "101",
        env={"AGENTSTATUS_PUBLIC_URL": "https://status.example.com"},
    )
    assert public.code == 0, public.stderr
    assert public.last_line.startswith(f"https://status.example.com/panel/{org.name}#asp_")
    bad = run_cli(
        shared_database_url, "panel-link", org.name, "101", env={"AGENTSTATUS_PUBLIC_URL": "status"}
    )
    assert bad.code != 0
    assert "AGENTSTATUS_PUBLIC_URL" in bad.stderr


def test_ttl_is_written_as_a_duration(
    shared_database_url: str, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    ok(shared_database_url, "panel-link", org.name, "101", "--ttl", "90m")
    listed = json.loads(ok(shared_database_url, "panel-links", org.name, "--json").stdout)
    assert len(listed) == 1
    for bad in ("soon", "8d", "30s", "1h1h"):
        outcome = invoke(shared_database_url, "panel-link", org.name, "101", "--ttl", bad)
        assert outcome.code != 0, bad
        assert "Traceback" not in outcome.stderr


def test_refusals_are_one_line(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    assert_user_error(invoke(shared_database_url, "panel-link", org.name, "999"), "no agent")
    assert_user_error(
        invoke(shared_database_url, "panel-link", org.name, "101", "--extension", "x9"),
        "no extension",
    )
    assert_user_error(invoke(shared_database_url, "panel-link", "nope", "101"), "nope")
    assert_user_error(invoke(shared_database_url, "panel-link-revoke", org.name, "424242"))


def test_listing_and_revoking(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_server: ServerProcess
) -> None:
    org = shared_org_factory()
    first = ok(shared_database_url, "panel-link", org.name, "101").last_line
    second = ok(shared_database_url, "panel-link", org.name, "101").last_line
    third = ok(shared_database_url, "panel-link", org.name, "102").last_line
    table = ok(shared_database_url, "panel-links", org.name).stdout
    assert table.splitlines()[0].split() == ["ID", "AGENT", "EXTENSION", "EXPIRES"]
    assert "asp_" not in table
    mine = json.loads(
        ok(shared_database_url, "panel-links", org.name, "--agent", "101", "--json").stdout
    )
    assert [link["user_id"] for link in mine] == ["101", "101"]

    ok(shared_database_url, "panel-link-revoke", org.name, str(mine[0]["id"]))
    assert _state(shared_server, first).json()["reason"] == "revoked"
    assert _state(shared_server, second).status_code == 200
    said = ok(shared_database_url, "panel-link-revoke", org.name, "--agent", "101").stdout
    assert "revoked 1 panel link" in said
    assert _state(shared_server, second).json()["reason"] == "revoked"
    assert _state(shared_server, third).status_code == 200
    usage = invoke(shared_database_url, "panel-link-revoke", org.name)
    assert usage.code == 2


def test_embed_origins(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    said = ok(
        shared_database_url,
        "org",
        "embed-origins",
        org.name,
        "https://CRM.example.com",
        "http://localhost:3000",
    ).stdout
    assert said.strip() == f"{org.name}: http://localhost:3000, https://crm.example.com"
    assert_user_error(
        invoke(shared_database_url, "org", "embed-origins", org.name, "crm.example.com"), "origin"
    )
    # Without origins: the current list, unchanged.
    shown = ok(shared_database_url, "org", "embed-origins", org.name).stdout
    assert shown.strip() == f"{org.name}: http://localhost:3000, https://crm.example.com"
    assert embed_origins.embed_origins(shared_engine, org.name) == [
        "http://localhost:3000",
        "https://crm.example.com",
    ]
    both = invoke(shared_database_url, "org", "embed-origins", org.name, "--clear", "https://a.b")
    assert both.code == 2
    cleared = ok(shared_database_url, "org", "embed-origins", org.name, "--clear").stdout
    assert "no origin may embed" in cleared
    assert embed_origins.embed_origins(shared_engine, org.name) == []
    empty = ok(shared_database_url, "org", "embed-origins", org.name).stdout
    assert empty.strip() == f"{org.name}: no origin may embed the panel"
    assert_user_error(invoke(shared_database_url, "org", "embed-origins", "no-such-org"), "no")
