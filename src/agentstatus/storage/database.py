"""Database URLs and SQLAlchemy engines, with the pragmas that make SQLite durable."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import QueuePool

from agentstatus.storage.write_turns import turn_of

DEFAULT_DATABASE_URL = "sqlite:///agentstatus.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
_TURN = "agentstatus.write_turn"
"""In a connection's info: it holds its process's turn to write (``write_turns``)."""
SQLITE_POOL_SIZE = 48


READ_ONLY = "agentstatus_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(**{READ_ONLY: True})


class DatabaseURLError(ValueError):
    """The database URL cannot be used."""


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise DatabaseURLError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise DatabaseURLError("an in-memory SQLite database cannot be shared: give a file path")
    return parsed


def sqlite_path(url: URL) -> Path:
    assert url.database is not None
    return Path(url.database)


def configure_sqlite_connection(conn: sqlite3.Connection) -> None:
    """WAL with synchronous=FULL: a commit is on disk before it returns."""
    conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds digests of the
    Codes and tokens, and everyone's history); SQLite gives its WAL and shared-memory
    files the same mode. An existing file is left as it is."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_sql_engine(url: str | URL) -> Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
        # Enough pooled connections for the request threads (40) and the event loop's
        # executor: a connection opened past the pool is closed after use, and opening
        # one costs its PRAGMAs, which showed when thousands of streams connect at once.
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling would defer BEGIN; let SQLAlchemy emit it.
            dbapi_conn.isolation_level = None
            configure_sqlite_connection(dbapi_conn)

        turn = turn_of(path)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            # Writers take the lock up front: a deferred transaction that reads, then
            # writes, fails at once ("database is locked") if another wrote meanwhile;
            # this process's writers take turns first (``storage/write_turns.py``).
            taken = turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if taken:
                    turn.release()
                raise
            conn.info[_TURN] = taken

        def _give_back(info: dict[str, Any]) -> None:
            if info.pop(_TURN, False):
                turn.release()

        # The end of the transaction, however it ends (a connection closed or invalidated
        # with one open ends it too).
        event.listen(engine, "commit", lambda conn: _give_back(conn.info))
        event.listen(engine, "rollback", lambda conn: _give_back(conn.info))
        event.listen(engine.pool, "checkin", lambda _dbapi, record: _give_back(record.info))
        event.listen(
            engine.pool, "invalidate", lambda _dbapi, record, _exc: _give_back(record.info)
        )
        return engine
    return create_engine(
        sqlalchemy_url(parsed), pool_pre_ping=True, connect_args={"connect_timeout": 5}
    )


def connections_in_use(engine: Engine) -> int:
    """How many of the engine's pooled connections are checked out now (both engines pool
    with a QueuePool; another pool does not count them: 0)."""
    pool = engine.pool
    return pool.checkedout() if isinstance(pool, QueuePool) else 0


def sqlalchemy_url(url: URL) -> URL:
    """PostgreSQL through psycopg 3 (SQLAlchemy's default would be psycopg2)."""
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url


def libpq_conninfo(url: URL) -> str:
    """The URL as libpq understands it, for the status engine's own connections."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"
