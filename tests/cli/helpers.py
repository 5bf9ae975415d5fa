"""Running the ``agentstatus`` command as a user does (a real process) or in-process."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
from click.testing import CliRunner

from agentstatus.cli.main import cli
from tests.support.forked import run_agentstatus

OK_BODY: dict[str, object] = {"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"}
AUTH_FAILED_BODY: dict[str, object] = {
    "Status": 2,
    "StatusError": 0,
    "StatusErroMessage": "Authorization Failed",
}


@dataclass(frozen=True)
class Outcome:
    """What one command did: exit code, standard output and standard error."""

    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        assert lines, f"no output; stderr: {self.stderr}"
        return lines[-1].strip()


def run_cli(
    database_url: str | None,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: str | None = None,
) -> Outcome:
    """``python -m agentstatus [--database URL] ARGS`` in a process of its own."""
    base = [] if database_url is None else ["--database", database_url]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTATUS_")}
    environment.update(env or {})
    return Outcome(
        *run_agentstatus([*base, *args], env=environment, stdin=stdin, cwd=cwd, timeout=120)
    )


def invoke(
    database_url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """The same command in-process (fast); an unexpected exception fails the test.
    ``env`` is added to the process environment for the duration of the command."""
    result = CliRunner().invoke(cli, ["--database", database_url, *args], input=stdin, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def ok(database_url: str, *args: str, stdin: str | None = None) -> Outcome:
    """Invoke in-process and require success."""
    outcome = invoke(database_url, *args, stdin=stdin)
    assert outcome.code == 0, f"{args} exited {outcome.code}: {outcome.stderr}"
    return outcome


def assert_user_error(outcome: Outcome, *fragments: str) -> None:
    """Non-zero exit, one clear ``error:`` line on stderr, no traceback, nothing on stdout."""
    assert outcome.code != 0, f"expected a failure, got stdout {outcome.stdout!r}"
    assert "Traceback" not in outcome.stderr, outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {outcome.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert outcome.stdout == ""


def set_status(
    base_url: str, code: str, user_id: str, extension: str, status: int | str = 1
) -> tuple[int, object]:
    """One GET ``SetStatusFromAPI`` as a CRM sends it: (HTTP status, decoded JSON body)."""
    response = httpx.get(
        f"{base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user_id, "ExtensionUser": extension, "Status": status},
        timeout=30,
    )
    return response.status_code, response.json()
