"""What every command shares: the database URL, opened (and migrated) on first use."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from sqlalchemy import Engine

from agentstatus.app import open_database


@dataclass
class CliState:
    database_url: str
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_database(self.database_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


pass_state = click.make_pass_decorator(CliState)
