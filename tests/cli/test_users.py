"""``agentstatus user`` and ``org timezone`` as an operator runs them: real processes where
the password is printed or read, the other commands in-process (the same output and exit
codes)."""

from __future__ import annotations

import json

from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, update

from agentstatus.service import passwords, users
from agentstatus.service.timezones import get_timezone
from agentstatus.service.tokens import Role
from agentstatus.storage.schema import users as users_table
from tests.cli.helpers import invoke, run_cli
from tests.support.factories import make_org


def test_add_with_a_generated_password_prints_it_last(database_url: str, engine: Engine) -> None:
    org = make_org(engine)
    added = run_cli(
        database_url, "user", "add", "Sue@Example.COM", "--role", "supervisor", "--org", org.name
    )
    assert added.code == 0, added.stderr
    password = added.last_line
    assert len(password) >= passwords.MIN_LENGTH
    found = users.authenticate(engine, "sue@example.com", password)
    assert found is not None
    assert (found.email, found.role, found.org) == ("sue@example.com", Role.SUPERVISOR, org.name)


def test_add_with_a_password_on_stdin_prints_no_password(database_url: str, engine: Engine) -> None:
    added = run_cli(
        database_url,
        "user", "add", "ada@example.com", "--role", "admin", "--name", "Ada", "--password-stdin",
        stdin="a long enough secret\n",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert "a long enough secret" not in added.stdout
    assert users.authenticate(engine, "ada@example.com", "a long enough secret") is not None
    listed = invoke(database_url, "user", "list", "--json")
    assert json.loads(listed.stdout) == [
        {"email": "ada@example.com", "name": "Ada", "role": "admin", "org": None}
    ]
    table = invoke(database_url, "user", "list").stdout
    assert "ada@example.com" in table
    assert "$argon2" not in table


def test_refusals_are_one_line_and_exit_1(database_url: str, engine: Engine) -> None:
    users.add_user(engine, "taken@example.com", Role.ADMIN, "a long enough secret")
    cases = [
        (["user", "add", "taken@example.com", "--role", "admin"], "already exists"),
        (["user", "add", "not-an-email", "--role", "admin"], "invalid e-mail"),
        (["user", "add", "x@example.com", "--role", "admin", "--org", "nope"], "no organisation"),
        (["user", "add", "x@example.com", "--role", "boss"], "Invalid value"),
        (["user", "password", "nobody@example.com"], "no user"),
        (["user", "remove", "nobody@example.com"], "no user"),
        (["org", "timezone", "nope", "UTC"], "no organisation"),
    ]
    for args, message in cases:
        done = invoke(database_url, *args)
        assert done.code != 0, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    short = invoke(
        database_url, "user", "add", "y@example.com", "--role", "admin", "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert short.code == 1
    assert f"at least {passwords.MIN_LENGTH} characters" in short.stderr
    # A real process: its standard input at its end at once.
    empty = run_cli(
        database_url, "user", "add", "y@example.com", "--role", "admin", "--password-stdin",
        stdin="",
    )  # fmt: skip
    assert (empty.code, empty.stderr.strip()) == (1, "error: no password on stdin")


def test_password_and_remove(database_url: str, engine: Engine) -> None:
    users.add_user(engine, "bob@example.com", Role.SUPERVISOR, "the first password")
    changed = invoke(database_url, "user", "password", "BOB@example.com")
    assert changed.code == 0, changed.stderr
    assert users.authenticate(engine, "bob@example.com", "the first password") is None
    assert users.authenticate(engine, "bob@example.com", changed.last_line) is not None
    removed = invoke(database_url, "user", "remove", "bob@example.com")
    assert removed.code == 0
    assert users.list_users(engine) == []


def test_org_timezone(database_url: str, engine: Engine) -> None:
    org = make_org(engine)
    assert get_timezone(engine, org.name).key == "UTC"
    done = invoke(database_url, "org", "timezone", org.name, "Asia/Jerusalem")
    assert done.code == 0, done.stderr
    assert get_timezone(engine, org.name).key == "Asia/Jerusalem"
    bad = invoke(database_url, "org", "timezone", org.name, "Mars/Olympus")
    assert bad.code == 1
    assert "unknown time zone 'Mars/Olympus'" in bad.stderr


def test_a_password_is_rehashed_when_the_parameters_change(engine: Engine) -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1).hash("a long enough secret")
    users.add_user(engine, "old@example.com", Role.ADMIN, "placeholder secret")
    with engine.begin() as conn:
        conn.execute(
            update(users_table)
            .where(users_table.c.email == "old@example.com")
            .values(password_hash=weak)
        )
    assert users.authenticate(engine, "old@example.com", "a long enough secret") is not None
    with engine.connect() as conn:
        stored = conn.execute(
            users_table.select().where(users_table.c.email == "old@example.com")
        ).one()
    assert stored.password_hash != weak
    assert "m=65536,t=3,p=4" in stored.password_hash
