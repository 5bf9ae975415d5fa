"""The one audit row, written through each connection a writer holds: SQLAlchemy's (the
Voicenter reads), sqlite3's (the SQLite engine) and psycopg's (the PostgreSQL engine)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from agentstatus.storage.audit import (
    MAX_USER_ID,
    AuditRow,
    write_audit,
    write_audit_postgres,
    write_audit_sqlite,
)
from agentstatus.storage.database import libpq_conninfo
from agentstatus.storage.migrate import open_database
from agentstatus.storage.protocol import AuditEntry
from agentstatus.storage.schema import audit

ROW = AuditRow(None, "agent\x00-" + "x" * 200, 6, "SetStatus", "POST", "192.0.2.7", 1_000)


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def stored(engine: Engine) -> list[tuple[object, ...]]:
    columns = (audit.c.org_id, audit.c.user_id, audit.c.outcome_row, audit.c.endpoint)
    rest = (audit.c.source, audit.c.client_addr, audit.c.at_ms)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*columns, *rest).order_by(audit.c.id))]


def test_the_row_of_an_engine_step_is_the_step_without_its_code() -> None:
    entry = AuditEntry(3, "hash", "u1", 8, "SetStatus", "GET", None, 5)
    assert AuditRow.of(entry) == AuditRow(3, "u1", 8, "SetStatus", "GET", None, 5)


def test_sqlalchemy_writes_the_row_as_the_database_holds_it(engine: Engine) -> None:
    with engine.begin() as conn:
        write_audit(conn, ROW)
        write_audit(conn, AuditRow(None, None, 7, "GetStatusesList", "GET", None, 2_000))
    user = ROW.user_id if engine.dialect.name == "sqlite" else ROW.for_postgres().user_id
    assert stored(engine) == [
        (None, user, 6, "SetStatus", "POST", "192.0.2.7", 1_000),
        (None, None, 7, "GetStatusesList", "GET", None, 2_000),
    ]


def test_the_engines_connections_write_the_same_row(engine: Engine) -> None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        conn = sqlite3.connect(url.database, isolation_level=None)
        try:
            write_audit_sqlite(conn, ROW)
        finally:
            conn.close()
        user = ROW.user_id
    else:

        async def write() -> None:
            conninfo = libpq_conninfo(make_url(url.render_as_string(hide_password=False)))
            async with await psycopg.AsyncConnection.connect(conninfo) as conn:
                await write_audit_postgres(conn, ROW)

        asyncio.run(write())
        user = "agent-" + "x" * (MAX_USER_ID - len("agent-"))
    assert stored(engine) == [(None, user, 6, "SetStatus", "POST", "192.0.2.7", 1_000)]
