"""``wall-link``, ``wall-links`` and ``wall-link-revoke``: the link printed last is the
wall's address with a working token in its fragment only, the lists never show a token,
revoking without an id ends every link of the organisation, refusals are one line."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlalchemy import Engine

from agentstatus.service import wall_links
from agentstatus.service.links import LinkRefusal
from agentstatus.service.wall_links import WallGrant
from tests.cli.helpers import assert_user_error, invoke, ok, run_cli
from tests.conftest import OrgFactory

LINK = re.compile(
    r"(?P<base>https?://[^/#?]+(/[^#?]*)?)/o/(?P<org>[\w-]+)/wall#token=(?P<token>asw_[\w-]{43})"
)


def _grant(engine: Engine, url: str) -> WallGrant | LinkRefusal:
    found = LINK.fullmatch(url)
    assert found, url
    return wall_links.verify_link(engine, found["org"], found["token"])


def test_the_last_line_is_a_working_link(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    made = ok(shared_database_url, "wall-link", org.name, "--label", "TV by the door")
    assert "TV by the door" in made.stdout
    assert org.code not in made.stdout
    url = made.last_line
    assert url.startswith(f"http://127.0.0.1:8000/o/{org.name}/wall#token=asw_"), url
    grant = _grant(shared_engine, url)
    assert isinstance(grant, WallGrant)
    assert grant.org == org.name
    listed = json.loads(ok(shared_database_url, "wall-links", org.name, "--json").stdout)
    assert len(listed) == 1
    lasts = datetime.fromisoformat(listed[0]["expires_at"]) - datetime.fromisoformat(
        listed[0]["created_at"]
    )
    assert lasts == timedelta(days=30)
    assert listed[0]["created_by"].startswith("cli")
    assert listed[0]["label"] == "TV by the door"


def test_base_url_and_public_url(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    given = ok(shared_database_url, "wall-link", org.name, "--base-url", "https://s.example/as/")
    assert given.last_line.startswith(f"https://s.example/as/o/{org.name}/wall#token=asw_")
    public = run_cli(
        shared_database_url,
        "wall-link",
        org.name,
        env={"AGENTSTATUS_PUBLIC_URL": "https://status.example.com"},
    )
    assert public.code == 0, public.stderr
    assert public.last_line.startswith(f"https://status.example.com/o/{org.name}/wall#token=")


def test_expires_is_written_as_a_duration(
    shared_database_url: str, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    ok(shared_database_url, "wall-link", org.name, "--expires", "90d")
    listed = json.loads(ok(shared_database_url, "wall-links", org.name, "--json").stdout)
    lasts = datetime.fromisoformat(listed[0]["expires_at"]) - datetime.fromisoformat(
        listed[0]["created_at"]
    )
    assert lasts == timedelta(days=90)
    for bad in ("soon", "366d", "30s", "1d1d", "-1d"):
        outcome = invoke(shared_database_url, "wall-link", org.name, "--expires", bad)
        assert outcome.code != 0, bad
        assert "Traceback" not in outcome.stderr


def test_refusals_are_one_line(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    assert_user_error(invoke(shared_database_url, "wall-link", "nope"), "nope")
    assert_user_error(invoke(shared_database_url, "wall-links", "nope"), "nope")
    assert_user_error(invoke(shared_database_url, "wall-link-revoke", "nope"), "nope")
    assert_user_error(invoke(shared_database_url, "wall-link-revoke", org.name, "424242"))
    assert_user_error(
        invoke(shared_database_url, "wall-link", org.name, "--label", "x" * 129), "longer"
    )


def test_listing_and_revoking(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    other = shared_org_factory()
    first = ok(shared_database_url, "wall-link", org.name, "--label", "one").last_line
    second = ok(shared_database_url, "wall-link", org.name).last_line
    third = ok(shared_database_url, "wall-link", org.name).last_line
    theirs = ok(shared_database_url, "wall-link", other.name).last_line
    table = ok(shared_database_url, "wall-links", org.name).stdout
    assert table.splitlines()[0].split() == ["ID", "LABEL", "CREATED", "BY", "EXPIRES"]
    assert "asw_" not in table
    assert len(table.splitlines()) == 4
    mine = json.loads(ok(shared_database_url, "wall-links", org.name, "--json").stdout)
    assert "asw_" not in json.dumps(mine)

    said = ok(shared_database_url, "wall-link-revoke", org.name, str(mine[0]["id"])).stdout
    assert f"revoked wall link {mine[0]['id']}" in said
    assert _grant(shared_engine, first) is LinkRefusal.REVOKED
    assert isinstance(_grant(shared_engine, second), WallGrant)
    said = ok(shared_database_url, "wall-link-revoke", org.name).stdout
    assert f"revoked 2 wall link(s) of {org.name}" in said
    assert _grant(shared_engine, second) is LinkRefusal.REVOKED
    assert _grant(shared_engine, third) is LinkRefusal.REVOKED
    assert isinstance(_grant(shared_engine, theirs), WallGrant)  # another organisation's
    assert "(none)" in ok(shared_database_url, "wall-links", org.name).stdout
    every = ok(shared_database_url, "wall-links", org.name, "--all").stdout
    assert every.splitlines()[0].split()[-1] == "REVOKED"
    assert len(every.splitlines()) == 4
    ended = json.loads(ok(shared_database_url, "wall-links", org.name, "--all", "--json").stdout)
    assert all(k["revoked_by"] and k["revoked_by"].startswith("cli") for k in ended)
