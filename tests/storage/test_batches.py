"""Bulk writes in bounded batches (``storage.batches``): each batch commits on its own, a
failure after the first says how far it got, and a row written meanwhile by someone else
is skipped rather than failing the batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from agentstatus.app import open_database
from agentstatus.service import organisations
from agentstatus.storage.batches import PartialWrite, insert_new, write_in_batches
from agentstatus.storage.schema import extensions


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    """A database on each engine with one organisation (id 1)."""
    engine = open_database(any_database_url)
    organisations.create_organisation(engine, "acme")
    yield engine
    engine.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(extensions)).scalar_one())


def _insert(conn: Connection, sips: Sequence[str | None]) -> int:
    conn.execute(
        insert(extensions), [{"org_id": 1, "sip": s, "name": "", "created_ms": 0} for s in sips]
    )
    return len(sips)


def test_every_batch_commits_on_its_own(any_engine: Engine) -> None:
    sips = [f"sip{i}" for i in range(25)]
    assert write_in_batches(any_engine, sips, _insert, batch_rows=10) == [10, 10, 5]
    assert _count(any_engine) == 25


def test_a_failure_after_the_first_batch_says_how_far_it_got(any_engine: Engine) -> None:
    rows: list[str | None] = [f"sip{i}" for i in range(20)]
    rows[15] = None  # NOT NULL: the database refuses the second batch
    with pytest.raises(PartialWrite) as raised:
        write_in_batches(any_engine, rows, _insert, batch_rows=10)
    assert (raised.value.written, raised.value.total) == (10, 20)
    assert _count(any_engine) == 10  # the first batch stays, the second was rolled back


def test_a_failure_in_the_first_batch_is_the_database_error(any_engine: Engine) -> None:
    with pytest.raises(IntegrityError):
        write_in_batches(any_engine, [None, "sip1"], _insert, batch_rows=10)
    assert _count(any_engine) == 0


def test_insert_new_skips_rows_present_and_returns_the_others(any_engine: Engine) -> None:
    with any_engine.begin() as conn:
        _insert(conn, ["sip1"])
    with any_engine.begin() as conn:
        added = insert_new(
            conn,
            extensions,
            [{"org_id": 1, "sip": s, "name": "new", "created_ms": 1} for s in ("sip1", "sip2")],
            unique=[extensions.c.org_id, extensions.c.sip],
            returning=[extensions.c.sip],
        )
    assert added == [("sip2",)]
    with any_engine.connect() as conn:
        names = dict(conn.execute(select(extensions.c.sip, extensions.c.name)).all())
    assert names == {"sip1": "", "sip2": "new"}
