"""The command-line contract other tools rely on. A real process where the process itself
is the point (the printed code as a script reads it, the environment, the working
directory); the other forms in-process (click's runner: the same output and exit code)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service import agents, extensions, organisations, presence, statuses, tokens
from agentstatus.service.organisations import org_id, org_id_for_code
from agentstatus.service.tokens import Role
from tests.cli.helpers import invoke, ok, run_cli

HEX = re.compile(r"[0-9a-f]+")


def code_org(engine: Engine, code: str) -> int | None:
    with engine.connect() as conn:
        return org_id_for_code(conn, code)


def named_org(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return org_id(conn, name)


def test_org_create_prints_a_generated_code_last(database_url: str, engine: Engine) -> None:
    done = run_cli(database_url, "org", "create", "acme-1_A")
    assert done.code == 0, done.stderr
    code = done.last_line
    assert HEX.fullmatch(code), code
    assert len(code) * 4 >= 128
    assert code_org(engine, code) == named_org(engine, "acme-1_A")


def test_generated_codes_differ_every_time(database_url: str) -> None:
    codes = {ok(database_url, "org", "create", f"org{i}").last_line for i in range(20)}
    assert len(codes) == 20
    assert all(len(c) * 4 >= 128 for c in codes)


def test_org_create_with_a_chosen_code(database_url: str, engine: Engine) -> None:
    done = invoke(database_url, "org", "create", "beta", "--code", "My-Secret.Code_42")
    assert done.code == 0, done.stderr
    assert done.last_line == "My-Secret.Code_42"
    assert code_org(engine, "My-Secret.Code_42") == named_org(engine, "beta")


def test_agent_add_with_and_without_name(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    assert invoke(database_url, "agent", "add", "acme", "1001", "--name", "Dana Levi").code == 0
    assert invoke(database_url, "agent", "add", "acme", "1002").code == 0
    assert agents.list_agents(engine, "acme") == [
        agents.Agent("1001", "Dana Levi", True),
        agents.Agent("1002", "", True),
    ]


def test_extension_add_with_and_without_name(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    done = invoke(database_url, "extension", "add", "acme", "sip1001", "--name", "Desk 1")
    assert done.code == 0, done.stderr
    assert invoke(database_url, "extension", "add", "acme", "sip1002").code == 0
    assert extensions.list_extensions(engine, "acme") == [
        extensions.Extension("sip1001", "Desk 1"),
        extensions.Extension("sip1002", ""),
    ]


def test_status_add_rename_disable_enable(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")

    def status_20() -> statuses.Status:
        return next(s for s in statuses.list_statuses(engine, "acme") if s.id == 20)

    assert invoke(database_url, "status", "add", "acme", "20", "Coaching").code == 0
    assert (status_20().name, status_20().enabled) == ("Coaching", True)
    assert invoke(database_url, "status", "rename", "acme", "20", "Coaching 1:1").code == 0
    assert status_20().name == "Coaching 1:1"
    assert invoke(database_url, "status", "disable", "acme", "20").code == 0
    assert status_20().enabled is False
    assert [s.id for s in statuses.list_statuses(engine, "acme", enabled_only=True)].count(20) == 0
    assert invoke(database_url, "status", "enable", "acme", "20").code == 0
    assert status_20().enabled is True


def test_presence_json_of_logged_out_agents(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    agents.add_agent(engine, "acme", "1001", "Dana")
    agents.add_agent(engine, "acme", "1002")
    done = invoke(database_url, "presence", "acme", "--json")
    assert done.code == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["user_id"] for r in rows] == ["1001", "1002"]
    for row in rows:
        assert {"user_id", "extension", "status", "since"} <= row.keys()
        assert row["extension"] is None
        assert row["status"] == 2
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["since"])


def test_presence_table_without_json(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    agents.add_agent(engine, "acme", "1001", "Dana")
    done = invoke(database_url, "presence", "acme")
    assert done.code == 0, done.stderr
    assert "1001" in done.stdout
    assert "Dana" in done.stdout
    assert [p.user_id for p in presence.list_presence(engine, "acme")] == ["1001"]


def test_token_create_prints_the_token_last(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    admin = invoke(database_url, "token", "create", "--role", "admin")
    supervisor = invoke(database_url, "token", "create", "--role", "supervisor", "--org", "acme")
    assert admin.code == supervisor.code == 0
    admin_info = tokens.verify_token(engine, admin.last_line)
    supervisor_info = tokens.verify_token(engine, supervisor.last_line)
    assert admin_info is not None
    assert (admin_info.role, admin_info.org) == (Role.ADMIN, None)
    assert supervisor_info is not None
    assert (supervisor_info.role, supervisor_info.org) == (Role.SUPERVISOR, "acme")
    assert admin.last_line != supervisor.last_line


def test_database_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    done = run_cli(None, "org", "create", "envorg", env={"AGENTSTATUS_DATABASE_URL": url})
    assert done.code == 0, done.stderr
    engine = open_database(url)
    try:
        assert code_org(engine, done.last_line) == named_org(engine, "envorg")
    finally:
        engine.dispose()


def test_database_option_wins_over_the_environment(tmp_path: Path) -> None:
    chosen = f"sqlite:///{tmp_path / 'chosen.db'}"
    ignored = tmp_path / "ignored.db"
    env = {"AGENTSTATUS_DATABASE_URL": f"sqlite:///{ignored}"}
    assert run_cli(chosen, "org", "create", "x", env=env).code == 0
    assert (tmp_path / "chosen.db").exists()
    assert not ignored.exists()


def test_absolute_path_in_a_new_directory_gets_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "data.db"
    url = f"sqlite:////{str(path).lstrip('/')}"
    assert url.startswith("sqlite:////")
    done = run_cli(url, "org", "list", "--json")
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert path.exists()


def test_relative_path_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    done = run_cli("sqlite:///relative.db", "org", "create", "rel", cwd=str(tmp_path))
    assert done.code == 0, done.stderr
    engine = open_database(f"sqlite:///{tmp_path / 'relative.db'}")
    try:
        assert code_org(engine, done.last_line) == named_org(engine, "rel")
    finally:
        engine.dispose()
