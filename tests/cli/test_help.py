"""Every command and subcommand has ``--help``, which touches no database."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agentstatus.cli.main import cli
from tests.cli.helpers import run_cli


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


ALL_COMMANDS = command_paths(cli)

# The command line of docs/cli.md: each of these must exist.
DOCUMENTED = [
    "serve",
    "demo",
    "presence",
    "presence show",
    "presence set",
    "force-logout",
    "history",
    "report",
    *(f"org {c}" for c in ("create", "list", "rotate-code", "allowlist")),
    *(f"agent {c}" for c in ("add", "rename", "deactivate", "activate", "list", "import")),
    *(f"extension {c}" for c in ("add", "remove", "list", "import")),
    *(f"status {c}" for c in ("list", "add", "rename", "color", "available", "disable", "enable")),
    *(f"token {c}" for c in ("create", "list", "revoke")),
    *(f"user {c}" for c in ("add", "list", "password", "remove")),
    "org timezone",
    "queues",
    "queue-service-level",
    "client queues",
    *(f"wall-link{c}" for c in ("", "s", "-revoke")),
    *(f"monitor-logins {c}" for c in ("list", "revoke")),
]


def test_every_documented_command_exists() -> None:
    assert {" ".join(p) for p in ALL_COMMANDS} >= set(DOCUMENTED)


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "root")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(path: tuple[str, ...], flag: str, tmp_path: Path) -> None:
    database = tmp_path / "untouched.db"
    args = ["--database", f"sqlite:///{database}", *path, flag]
    result = CliRunner().invoke(cli, args, prog_name="agentstatus")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: agentstatus {' '.join(path)}".rstrip())
    assert "Options:" in result.stdout
    assert not database.exists()


BAD_ENVIRONMENT = {
    "AGENTSTATUS_PORT": "eighty",
    "AGENTSTATUS_SECRET_KEY": "not-a-key",
    "AGENTSTATUS_LOG_LEVEL": "chatty",
}


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_whatever_the_environment_holds(path: tuple[str, ...], tmp_path: Path) -> None:
    database = tmp_path / "untouched.db"
    args = ["--database", f"sqlite:///{database}", *path, "--help"]
    result = CliRunner().invoke(cli, args, prog_name="agentstatus", env=BAD_ENVIRONMENT)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: agentstatus {' '.join(path)}".rstrip())
    assert not database.exists()


def test_help_of_a_subcommand_in_a_real_process_with_a_bad_variable(tmp_path: Path) -> None:
    done = run_cli(None, "webhook", "add", "--help", env=BAD_ENVIRONMENT, cwd=str(tmp_path))
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("Usage: agentstatus webhook add")
    assert list(tmp_path.iterdir()) == []


def test_help_in_a_real_process_lists_the_commands(tmp_path: Path) -> None:
    database = tmp_path / "untouched.db"
    done = run_cli(f"sqlite:///{database}", "--help")
    assert done.code == 0, done.stderr
    for name in ("serve", "org", "agent", "extension", "status", "presence", "token", "demo"):
        assert f"  {name} " in done.stdout
    assert "AGENTSTATUS_DATABASE_URL" in done.stdout
    assert not database.exists()


def test_version() -> None:
    done = run_cli(None, "--version")
    assert done.code == 0
    assert done.stdout.startswith("agentstatus, version ")
