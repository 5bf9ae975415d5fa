"""The audit log of refused requests and failed authentications: one row shape and one
statement, written by the status engines (SQLite, PostgreSQL) and by the Voicenter reads'
refusals, each through the connection it holds.

A row never holds the Code (SPEC.md 3.2). On PostgreSQL the user id is cut to what the
column holds, without NUL (text there cannot hold one): the id may name no agent at all.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from agentstatus.storage.protocol import AuditEntry

MAX_USER_ID = 128
"""``audit.user_id`` is VARCHAR(128)."""

_COLUMNS = ("org_id", "user_id", "outcome_row", "endpoint", "source", "client_addr", "at_ms")
_INSERT = "INSERT INTO audit ({}) VALUES ({})"
INSERT_NAMED = _INSERT.format(", ".join(_COLUMNS), ", ".join(f":{c}" for c in _COLUMNS))
"""For SQLAlchemy and sqlite3 (``:name`` parameters)."""
INSERT_PYFORMAT = _INSERT.format(", ".join(_COLUMNS), ", ".join(f"%({c})s" for c in _COLUMNS))
"""For psycopg (``%(name)s`` parameters)."""


@dataclass(frozen=True, slots=True)
class AuditRow:
    org_id: int | None
    user_id: str | None
    outcome_row: int
    endpoint: str
    source: str
    client_addr: str | None
    at_ms: int

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRow:
        """The row of a status engine's audit step."""
        return cls(
            entry.org_id,
            entry.user_id,
            entry.row,
            entry.endpoint,
            entry.source,
            entry.client_addr,
            entry.at_ms,
        )

    def for_postgres(self) -> AuditRow:
        if self.user_id is None:
            return self
        return replace(self, user_id=self.user_id.replace("\x00", "")[:MAX_USER_ID])

    def values(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _COLUMNS}


def write_audit(conn: Connection, row: AuditRow) -> None:
    """Write ``row`` in the transaction ``conn`` holds."""
    postgres = conn.dialect.name == "postgresql"
    conn.execute(text(INSERT_NAMED), (row.for_postgres() if postgres else row).values())


def write_audit_sqlite(conn: sqlite3.Connection, row: AuditRow) -> None:
    """Write ``row`` in the SQLite engine's transaction."""
    conn.execute(INSERT_NAMED, row.values())


async def write_audit_postgres(
    conn: psycopg.AsyncConnection[tuple[object, ...]], row: AuditRow
) -> None:
    """Write ``row`` in the PostgreSQL engine's transaction."""
    await conn.execute(INSERT_PYFORMAT, row.for_postgres().values())
