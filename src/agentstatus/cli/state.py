"""What every command shares: the database URL, opened (and migrated) on first use."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import click
from sqlalchemy import Engine

from agentstatus.service.status_change import StatusChanges, run_standalone
from agentstatus.storage.database import DatabaseURLError
from agentstatus.storage.migrate import open_database

T = TypeVar("T")


@dataclass
class CliState:
    database_url: str
    secret_key: str | None = field(
        default_factory=lambda: os.environ.get("AGENTSTATUS_SECRET_KEY"), repr=False
    )
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with cannot_open_as_error():
                self._engine = open_database(self.database_url)
        return self._engine

    def changes(self, operation: Callable[[StatusChanges], Awaitable[T]]) -> T:
        """Run ``operation`` on the one status-change path, on this database."""
        self.engine  # noqa: B018 - migrates the schema first, as every command does
        return run_standalone(self.database_url, operation)

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
