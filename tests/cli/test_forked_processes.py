"""The suite runs ``agentstatus`` forked from a process that has imported it already
(``tests/support/forked.py``): a forked command must answer exactly as an executed one
does — its arguments, environment, working directory, standard input, output, errors and
exit code."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.forked import COMMAND, ForkedProcess, can_fork, run_agentstatus
from tests.support.server import ServerProcess

COMMANDS: list[tuple[list[str], dict[str, str], str | None]] = [
    # (arguments, environment added, standard input)
    (["org", "create", "acme"], {}, None),
    (["agent", "import", "acme", "-"], {}, "user_id,name\n3001,Piped\n3002,Other\n"),
    (["agent", "list", "acme", "--json"], {}, None),
    (["agent", "import", "acme", "-"], {}, "not,a\ncsv file"),
    (["org", "create", "acme"], {}, None),  # exists already: a user error
    (["org", "list"], {"AGENTSTATUS_DATABASE_URL": "sqlite:///from-env.db"}, None),
    (["nonsense"], {}, None),
]


def _run_all(directory: Path) -> list[tuple[int, str, str]]:
    directory.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTATUS_")}
    outcomes = []
    for args, added, stdin in COMMANDS:
        database = [] if "AGENTSTATUS_DATABASE_URL" in added else ["--database", "sqlite:///a.db"]
        outcomes.append(
            run_agentstatus(
                [*database, *args],
                env={**environment, **added},
                stdin=stdin,
                cwd=str(directory),
                timeout=60,
            )
        )
    assert (directory / "a.db").exists()
    assert (directory / "from-env.db").exists()
    return outcomes


def test_a_forked_command_answers_as_an_executed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert can_fork(COMMAND, dict(os.environ))
    forked = _run_all(tmp_path / "forked")
    monkeypatch.setenv("AGENTSTATUS_TEST_EXEC", "1")
    assert not can_fork(COMMAND, dict(os.environ))
    executed = _run_all(tmp_path / "executed")
    assert [code for code, _, _ in forked] == [0, 0, 0, 1, 1, 0, 2]
    # Each organisation's code is its own random one: a fork does not share the random state.
    codes = [
        re.findall(r"^[0-9a-f]{48}$", out, re.MULTILINE) for _, out, _ in (forked[0], executed[0])
    ]
    assert len(codes[0]) == len(codes[1]) == 1
    assert codes[0] != codes[1]
    assert forked[1:] == executed[1:]


def test_an_interpreter_setting_or_another_command_is_executed() -> None:
    env = dict(os.environ)
    assert not can_fork(COMMAND, {**env, "PYTHONDEVMODE": "1"})
    assert not can_fork(("agentstatus",), env)


def test_a_forked_server_is_a_process_of_its_own(tmp_path: Path) -> None:
    """Its own PID, stopped by SIGTERM (uvicorn shuts down, then raises the signal again, as
    an executed server does), killed by SIGKILL."""
    database = f"sqlite:///{tmp_path / 'a.db'}"
    run_agentstatus(["--database", database, "db", "upgrade"], timeout=60)
    for signal_name, code in (("stop", -15), ("kill", -9)):
        server = ServerProcess(database, tmp_path / "server.log").start()
        process = server.process
        assert isinstance(process, ForkedProcess)
        assert process.pid != os.getpid()
        assert Path(f"/proc/{process.pid}").exists()
        getattr(server, signal_name)()
        assert process.returncode == code, signal_name
    assert "Application startup complete" in (tmp_path / "server.log").read_text()
