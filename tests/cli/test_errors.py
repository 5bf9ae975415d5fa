"""User errors: a non-zero exit, one clear line on stderr, no traceback, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentstatus.service import agents, extensions, organisations, statuses, tokens
from tests.cli.helpers import assert_user_error, invoke, run_cli
from tests.support.server import free_port

HUGE = "99999999999999999999999"


@pytest.fixture
def acme(engine: Engine) -> str:
    """Organisation ``acme`` with agent 1001 and extension sip1; returns its Code."""
    code = organisations.create_organisation(engine, "acme").code
    agents.add_agent(engine, "acme", "1001", "Dana")
    extensions.add_extension(engine, "acme", "sip1", "Desk 1")
    return code


# The forms of the contract.
CONTRACT_ERRORS = [
    (("agent", "add", "nope", "1002"), "no organisation named 'nope'"),
    (("agent", "add", "acme", "1001"), "already exists"),
    (("org", "create", "bad name"), "invalid organisation name"),
    (("status", "add", "acme", "20", "Coaching", "--color", "red"), "invalid colour"),
    (("status", "disable", "acme", "1"), "cannot be disabled"),
    (("status", "disable", "acme", "2"), "cannot be disabled"),
    (("presence", "nope", "--json"), "no organisation named 'nope'"),
    (("token", "create", "--role", "admin", "--org", "nope"), "no organisation"),
]


@pytest.mark.parametrize(("args", "fragment"), CONTRACT_ERRORS)
def test_contract_user_errors(
    database_url: str, acme: str, args: tuple[str, ...], fragment: str
) -> None:
    assert_user_error(invoke(database_url, *args), fragment)


# Two of them as real processes: the exit code and the one line of stderr a script sees.
@pytest.mark.parametrize(("args", "fragment"), CONTRACT_ERRORS[:3:2])
def test_contract_user_errors_in_a_real_process(
    database_url: str, acme: str, args: tuple[str, ...], fragment: str
) -> None:
    assert_user_error(run_cli(database_url, *args), fragment)


def test_refused_commands_change_nothing(database_url: str, engine: Engine, acme: str) -> None:
    before = (
        organisations.list_organisations(engine),
        agents.list_agents(engine, "acme"),
        extensions.list_extensions(engine, "acme"),
        statuses.list_statuses(engine, "acme"),
    )
    for args in [
        ("agent", "add", "acme", "1001", "--name", "Other"),
        ("extension", "add", "acme", "sip1", "--name", "Other"),
        ("org", "create", "acme"),
        ("status", "add", "acme", "3", "Other"),
        ("status", "color", "acme", "3", "#12345"),
        ("status", "disable", "acme", "2"),
    ]:
        assert invoke(database_url, *args).code != 0
    after = (
        organisations.list_organisations(engine),
        agents.list_agents(engine, "acme"),
        extensions.list_extensions(engine, "acme"),
        statuses.list_statuses(engine, "acme"),
    )
    assert after == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("org", "create", "acme"), "already exists"),
        (("org", "create", "x" * 65), "invalid organisation name"),
        (("org", "create", "caf\u00e9"), "invalid organisation name"),
        (("org", "create", "a/b"), "invalid organisation name"),
        (("org", "create", "new", "--code", "has space"), "code"),
        (("org", "rotate-code", "nope"), "no organisation"),
        (("org", "rotate-code", "acme", "--code", ""), "code"),
        (("org", "allowlist", "acme", "not-an-address"), "not-an-address"),
        (("org", "allowlist", "nope", "--clear"), "no organisation"),
        (("agent", "add", "acme", "a b"), "user id"),
        (("agent", "add", "acme", ""), "user id"),
        (("agent", "add", "acme", "1002", "--name", "x" * 300), "name"),
        (("agent", "rename", "acme", "9999", "X"), "no agent '9999'"),
        (("agent", "deactivate", "acme", "9999"), "no agent"),
        (("agent", "activate", "nope", "1001"), "no organisation"),
        (("agent", "list", "nope"), "no organisation"),
        (("extension", "add", "acme", "sip1"), "already exists"),
        (("extension", "add", "nope", "sip2"), "no organisation"),
        (("extension", "remove", "acme", "sip9"), "no extension 'sip9'"),
        (("extension", "list", "nope"), "no organisation"),
        (("status", "add", "acme", "3", "Again"), "already exists"),
        (("status", "add", "acme", "20", "  "), "needs a name"),
        (("status", "rename", "acme", "99", "X"), "no status 99"),
        (("status", "rename", "acme", "3", ""), "needs a name"),
        (("status", "color", "acme", "3", "#12345g"), "invalid colour"),
        (("status", "color", "acme", "99", "#123456"), "no status 99"),
        (("status", "available", "acme", "99", "yes"), "no status 99"),
        (("status", "enable", "acme", "99"), "no status 99"),
        (("status", "list", "nope"), "no organisation"),
        (("status", "rename", "acme", HUGE, "X"), "status"),
        (("status", "disable", "acme", "0"), "status"),
        (("token", "revoke", "999"), "no active token"),
        (("token", "revoke", HUGE), "token"),
        (("force-logout", "acme", "9999"), "no agent"),
        (("force-logout", "nope", "--all"), "no organisation"),
        (("history", "nope"), "no organisation"),
        (("history", "acme", "--after", HUGE), "after"),
        (("history", "acme", "--from", "2026-02-01", "--to", "2026-01-01"), "before its start"),
        (("report", "nope"), "no organisation"),
        (("report", "acme", "--from", "2026-02-01", "--to", "2026-01-01"), "after its start"),
        (("report", "acme", "--from", "2020-01-01", "--to", "2022-01-01"), "366 days"),
    ],
)
def test_user_errors(database_url: str, acme: str, args: tuple[str, ...], fragment: str) -> None:
    assert_user_error(invoke(database_url, *args), fragment)


def test_revoking_twice_is_an_error(database_url: str, engine: Engine) -> None:
    created = tokens.create_token(engine, tokens.Role.ADMIN)
    assert invoke(database_url, "token", "revoke", str(created.info.id)).code == 0
    assert_user_error(invoke(database_url, "token", "revoke", str(created.info.id)), "no active")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("foo://bar", "unsupported database"),
        ("sqlite://", "in-memory"),
        ("not a url", "not a database URL"),
    ],
)
def test_unusable_database_urls(url: str, fragment: str) -> None:
    assert_user_error(run_cli(url, "org", "list"), fragment)


def test_database_in_a_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = run_cli(f"sqlite:///{blocker / 'sub' / 'x.db'}", "org", "create", "acme")
    assert_user_error(done, "database")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    path.write_bytes(b"this is not sqlite" * 100)
    assert_user_error(run_cli(f"sqlite:///{path}", "org", "list"), "not a database")
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_an_unreachable_postgresql_server() -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/agentstatus"
    assert_user_error(run_cli(url, "org", "list"), "database")


def test_usage_errors_exit_2_without_a_traceback(database_url: str) -> None:
    for args in [
        ("agent", "add", "acme"),
        ("status", "available", "acme", "3", "maybe"),
        ("token", "create"),
        ("history", "acme", "--from", "yesterday"),
        ("org", "allowlist", "acme"),
        ("force-logout", "acme"),
        ("no-such-command",),
    ]:
        done = invoke(database_url, *args)
        assert done.code == 2, args
        assert "Traceback" not in done.stderr
        assert "Error:" in done.stderr


def test_a_code_in_use_is_refused_without_saying_whose(
    database_url: str, engine: Engine, acme: str
) -> None:
    organisations.create_organisation(engine, "beta", "beta-code")
    assert_user_error(invoke(database_url, "org", "create", "gamma", "--code", acme), "taken")
    assert_user_error(invoke(database_url, "org", "rotate-code", "beta", "--code", acme), "taken")
    assert [o.name for o in organisations.list_organisations(engine)] == ["acme", "beta"]
    with engine.connect() as conn:
        assert organisations.org_id_for_code(conn, "beta-code") is not None
