"""Bulk writes in bounded batches, each a short transaction of its own.

SQLite has one writer at a time: a status change of any tenant waits (``busy_timeout``,
10 s, then row 11) while another transaction holds the write lock. One transaction of a
100,000-row import held it for 17 s. Here every batch holds it for a few thousand rows
only, and on SQLite the writer then pauses before its next batch, so that whoever waits
for the lock (the status writer thread of this or another instance, another process)
gets it in between. SQLite's busy handler retries after 1, 2, 5, 10, 15, 20, 25, 25, 25,
50, 50 and then every 100 ms: a waiter that has waited W retries again within about W
(and within 100 ms at most), so a pause as long as the batch took (at least 20 ms, at
most 100 ms) is always long enough for a waiter that arrived during that batch. The
import then has at most half of the writer's time. On PostgreSQL writers of other rows
are not blocked at all; the batches only keep each transaction (and its locks and
memory) small, and there is no pause.

A failure after some batches were committed leaves those committed: the callers are
idempotent (a row already written is updated again), so running the same work again
finishes it. ``PartialWrite`` says how far it got.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

BATCH_ROWS = 2_000
"""Rows per transaction: 2,000 agents take about 30-40 ms of the SQLite writer's time."""
MIN_PAUSE_SECONDS = 0.02
MAX_PAUSE_SECONDS = 0.1
"""The pause between two batches on SQLite: as long as the batch took, within these."""

T = TypeVar("T")
R = TypeVar("R")


class PartialWrite(Exception):
    """The database failed after ``written`` of ``total`` rows were committed."""

    def __init__(self, written: int, total: int, cause: DBAPIError) -> None:
        super().__init__(f"{written} of {total} rows written")
        self.written = written
        self.total = total
        self.cause = cause


def write_in_batches(
    engine: Engine,
    rows: Sequence[T],
    write: Callable[[Connection, Sequence[T]], R],
    *,
    batch_rows: int = BATCH_ROWS,
) -> list[R]:
    """``write(conn, batch)`` for each batch of ``rows`` in order, each in a transaction
    that commits before the next begins; the results of every batch.

    A database error in the first batch propagates as it is (nothing was written); a
    later one raises ``PartialWrite``.
    """
    pausing = engine.dialect.name == "sqlite"
    results: list[R] = []
    took = 0.0
    for start in range(0, len(rows), max(1, batch_rows)):
        if start and pausing:
            # Let a waiting writer in (see the module's docstring).
            time.sleep(min(MAX_PAUSE_SECONDS, max(MIN_PAUSE_SECONDS, took)))
        batch = rows[start : start + batch_rows]
        began = time.monotonic()
        try:
            with engine.begin() as conn:
                results.append(write(conn, batch))
        except DBAPIError as exc:
            if start == 0:
                raise
            raise PartialWrite(start, len(rows), exc) from exc
        took = time.monotonic() - began  # the wait for the lock included, the commit too
    return results


def insert_new(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, object]],
    unique: Sequence[Column[object]],
    returning: Sequence[Column[object]],
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` in one statement, skipping those that ``unique`` finds already
    present (written by someone else since the caller looked); ``returning`` of the rows
    inserted."""
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = make(table).on_conflict_do_nothing(index_elements=list(unique))
    return [tuple(row) for row in conn.execute(statement.returning(*returning), list(rows))]
