"""``agentstatus client …`` against a real server: output, ``--json``, status names, and one
documented exit code per error class. The commands run in-process (click's runner: the same
output and exit codes), a few in a real process as a script runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from agentstatus.cli.client import EXIT_CODES, EXIT_HELP
from agentstatus.cli.main import cli
from agentstatus.client import AgentStatus
from agentstatus.service.statuses import update_status
from tests.cli.helpers import Outcome, run_cli
from tests.support.compat import db_path, history_refused
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess, free_port

CLIENT_DOC = Path(__file__).parents[2] / "docs" / "client.md"


@pytest.fixture
def org(shared_engine: Engine) -> OrgFixture:
    return make_org(shared_engine)


def client(
    server: ServerProcess | str, code: str | None, *args: str, env: dict[str, str] | None = None
) -> Outcome:
    """``python -m agentstatus client ARGS --base-url … [--code …]`` in a real process."""
    base_url = server if isinstance(server, str) else server.base_url
    code_args = ["--code", code] if code is not None else []
    return run_cli(None, "client", *args, "--base-url", base_url, *code_args, env=env)


def quick(server: ServerProcess | str, code: str | None, *args: str, **env: str) -> Outcome:
    """The same command in-process (the server is still a real process): fast, for output."""
    base_url = server if isinstance(server, str) else server.base_url
    environment = dict.fromkeys(("AGENTSTATUS_CODE", "VOICENTER_API_CODE"))
    code_args = ["--code", code] if code is not None else []
    result = CliRunner().invoke(
        cli,
        ["client", *args, "--base-url", base_url, *code_args],
        env={**environment, **env},
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_refused(outcome: Outcome, exit_code: int, *fragments: str) -> None:
    assert outcome.code == exit_code, (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr
    (line,) = outcome.stderr.strip().splitlines()
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, line


def test_set_status_by_number_and_by_name(shared_server: ServerProcess, org: OrgFixture) -> None:
    user, ext = org.agents[0], org.extensions[0]
    at = ("set-status", "--user", user, "--extension", ext)
    done = quick(shared_server, org.code, *at, "--status", "1")
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == f"OK: user {user} is at extension {ext} in status 1"
    done = quick(shared_server, org.code, *at, "--status", "lunch")
    assert done.stdout.strip() == f"OK: user {user} is at extension {ext} in status 3 (Lunch break)"
    done = quick(shared_server, org.code, "presence", "--extension", ext, "--json")
    assert done.code == 0
    (row,) = json.loads(done.stdout)
    assert (row["username"], row["onlineUserID"], row["onlineUserStatus"]) == (ext, int(user), 3)
    for name, status in [("Department meeting", 12), ("SUMMARY", 13), ("train", 11)]:
        done = quick(shared_server, org.code, *at, "--status", name, "--json")
        assert done.code == 0, done.stderr
        assert json.loads(done.stdout) == {"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"}
        (row,) = json.loads(
            quick(shared_server, org.code, "presence", "--json", "--extension", ext).stdout
        )
        assert row["onlineUserStatus"] == status
    done = quick(shared_server, org.code, *at, "--status", "dept")  # starts no word of a name
    assert_refused(done, 14, "no enabled status is called 'dept'", "12 'Department meeting'")
    done = quick(shared_server, org.code, *at, "--status", "lo")  # two would do
    assert done.code == 2  # a usage error, in click's words
    assert "Error: status 'lo' could be any of: 1 'Login', 2 'Logout'" in done.stderr


def test_extensions_as_a_table_and_as_json(shared_server: ServerProcess, org: OrgFixture) -> None:
    done = quick(shared_server, org.code, "extensions")
    assert done.code == 0, done.stderr
    assert [line.split() for line in done.stdout.splitlines()] == [
        ["EXTENSION", "NAME"],
        ["sip1", "Desk", "1"],
        ["sip2", "Desk", "2"],
        ["sip3", "Desk", "3"],
    ]
    listed = json.loads(quick(shared_server, org.code, "extensions", "--json").stdout)
    assert [e["SIP"] for e in listed] == ["sip1", "sip2", "sip3"]
    assert_refused(quick(shared_server, "wrong-code", "extensions"), 10)


def test_login_logout_statuses_presence(shared_server: ServerProcess, org: OrgFixture) -> None:
    user, ext = org.agents[1], org.extensions[1]
    done = quick(shared_server, org.code, "login", "--user", user, "--extension", ext)
    assert (done.code, done.stdout.strip()) == (
        0,
        f"OK: user {user} is logged in at extension {ext}",
    )
    done = quick(shared_server, org.code, "presence")
    assert done.code == 0
    assert [line.split() for line in done.stdout.splitlines()] == [
        ["EXTENSION", "NAME", "USER", "STATUS"],
        ["sip1", "Desk", "1", "-", "-"],
        ["sip2", "Desk", "2", user, "1"],
        ["sip3", "Desk", "3", "-", "-"],
    ]
    done = quick(shared_server, org.code, "logout", "--user", user, "--extension", ext)
    assert (done.code, done.stdout.strip()) == (0, f"OK: user {user} is logged out")
    done = quick(shared_server, org.code, "statuses")
    assert done.stdout.splitlines()[0].split() == ["ID", "NAME", "COLOR"]
    assert ["3", "Lunch", "break", "#f39c12"] in [line.split() for line in done.stdout.splitlines()]
    listed = json.loads(quick(shared_server, org.code, "statuses", "--json").stdout)
    assert [s["ID"] for s in listed] == [int(s) for s in AgentStatus]


def test_the_code_from_the_environment(shared_server: ServerProcess, org: OrgFixture) -> None:
    for variable in ("AGENTSTATUS_CODE", "VOICENTER_API_CODE"):
        done = quick(shared_server, None, "statuses", **{variable: org.code})
        assert done.code == 0, (variable, done.stderr)


def test_get_works_too(shared_server: ServerProcess, org: OrgFixture) -> None:
    done = quick(
        shared_server,
        org.code,
        "login",
        "--user",
        org.agents[2],
        "--extension",
        org.extensions[2],
        "--method",
        "GET",
    )
    assert done.code == 0, done.stderr


def test_exit_codes_for_each_refusal(
    shared_server: ServerProcess, shared_engine: Engine, shared_database_url: str, org: OrgFixture
) -> None:
    user, other, ext = org.agents[0], org.agents[1], org.extensions[0]
    set_status = ("set-status", "--user", user, "--extension", ext, "--status")

    # In a real process: its exit code and its one line of stderr, as a script sees them.
    assert_refused(client(shared_server, "wrong", *set_status, "1"), 10, "matches no organisation")
    assert_refused(quick(shared_server, None, *set_status, "1"), 11, "no Code")
    done = quick(shared_server, org.code, "login", "--user", "", "--extension", ext)
    assert_refused(done, 11, "user id is missing")
    done = quick(shared_server, org.code, "login", "--user", user, "--extension", "nope")
    assert_refused(done, 12, "'nope' is not an extension")
    assert quick(shared_server, org.code, "login", "--user", user, "--extension", ext).code == 0
    done = quick(shared_server, org.code, "login", "--user", other, "--extension", ext, "--json")
    assert_refused(done, 13, f"extension '{ext}' is already in use")
    assert json.loads(done.stdout)["StatusErroMessage"] == "Extension is already in use"
    update_status(shared_engine, org.name, AgentStatus.TRAINING, enabled=False)
    assert_refused(quick(shared_server, org.code, *set_status, "11"), 14, "status 11 is not")
    assert_refused(quick(shared_server, org.code, *set_status, "training"), 14, "no enabled")
    with history_refused(db_path(shared_database_url), org.name):
        done = quick(shared_server, org.code, *set_status, "3", "--retries", "0")
    assert_refused(done, 15, "could not store the change")
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert_refused(quick(nowhere, org.code, "statuses", "--retries", "0"), 17, "could not reach")
    done = client(shared_server, org.code, "set-status", "--user", user)
    assert done.code == 2
    assert "Missing option" in done.stderr


def test_rate_limited_exit_code(database_url: str, engine: Engine, tmp_path: Path) -> None:
    org = make_org(engine)
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "1"}
    with InProcessServer(database_url, tmp_path / "server.log", env=env) as server:
        assert quick(server, "wrong", "statuses").code == 10
        done = quick(server, org.code, "login", "--user", org.agents[0], "--extension", "sip1")
    assert_refused(done, 16, "too many failed authentications", "try again in")


def test_the_code_is_never_printed(shared_server: ServerProcess, org: OrgFixture) -> None:
    runs = [
        quick(shared_server, org.code, "login", "--user", "999", "--extension", "sip1", "--json"),
        quick(shared_server, org.code, "login", "--user", org.agents[0], "--extension", "nope"),
        quick(f"http://127.0.0.1:{free_port()}", org.code, "statuses", "--retries", "0"),
        quick(shared_server, org.code, "presence", "--json", "--method", "GET"),
    ]
    for done in runs:
        assert org.code not in done.stdout + done.stderr


def test_exit_codes_are_documented() -> None:
    readme = CLIENT_DOC.read_text()
    for kind, code, _ in EXIT_CODES:
        assert f"{code}  {kind.__name__}" in EXIT_HELP
        assert f"| {code} | `{kind.__name__}`" in readme, kind
    assert len({code for _, code, _ in EXIT_CODES}) == len(EXIT_CODES)
