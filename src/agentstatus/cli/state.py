"""What every command shares: the settings, the database opened (and migrated) and the
webhook key found, each on first use."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import click

from agentstatus.domain.secret_box import SecretBox
from agentstatus.service.status_change import StatusChanges, run_standalone
from agentstatus.settings import Settings, load_settings
from agentstatus.storage.database import DatabaseURLError
from agentstatus.storage.key_file import secret_box_for
from agentstatus.storage.migrate import open_database
from agentstatus.storage.types import Engine

T = TypeVar("T")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in the environment nor the password file
        return "cli"


@dataclass
class CliState:
    """``database_url`` is ``--database``: when given, it wins over the environment."""

    database_url: str | None = None
    # Read on first use, so that --help works whatever the environment holds.
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _secret_box: SecretBox | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            given = {"database_url": self.database_url} if self.database_url is not None else {}
            self._settings = load_settings(**given)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with cannot_open_as_error():
                self._engine = open_database(self.settings.database_url)
        return self._engine

    @property
    def actor(self) -> str:
        """Who the command line acts as in the history: ``cli:`` and the OS login name
        (the command runs on the database directly, with no token or web user)."""
        return cli_actor()

    def changes(self, operation: Callable[[StatusChanges], Awaitable[T]]) -> T:
        """Run ``operation`` on the one status-change path, on this database."""
        self.engine  # noqa: B018 - migrates the schema first, as every command does
        settings = self.settings
        return run_standalone(settings.database_url, operation, settings.database_timeout_seconds)

    @property
    def secret_box(self) -> SecretBox:
        """The key of the database's webhook secrets; a user error if there is none."""
        if self._secret_box is None:
            settings = self.settings
            self._secret_box = secret_box_for(settings.database_url, settings.secret_key)
        return self._secret_box

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@contextmanager
def cannot_open_as_error() -> Iterator[None]:
    """A database file whose directory cannot be created is a user error, not a traceback."""
    try:
        yield
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise DatabaseURLError(f"cannot open the database: {exc.strerror or exc}{where}") from None


pass_state = click.make_pass_decorator(CliState)
