"""What a server did, read back through SQLAlchemy on either engine (every row of every
table, and how two readings differ), and a refusal of history writes made by the database
itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select, text

from agentstatus.storage.database import reading
from agentstatus.storage.schema import metadata, organisations

Rows = list[dict[str, object]]
Contents = dict[str, Rows]
"""Table name to its rows, each row as ``{column: value}``, in primary key order."""


def contents(engine: Engine) -> Contents:
    """Every row of every table of the schema, read in one transaction."""
    with reading(engine) as conn, conn.begin():
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def org_id(engine: Engine, org_name: str) -> int:
    with reading(engine) as conn:
        found = conn.execute(
            select(organisations.c.id).where(organisations.c.name == org_name)
        ).scalar_one()
    return int(found)


def appended(before: Contents, after: Contents, table: str) -> Rows:
    """The rows ``table`` gained; every row it had is still there, unchanged."""
    had = before[table]
    assert after[table][: len(had)] == had, f"{table}: a row changed or vanished"
    return after[table][len(had) :]


def unchanged_but(before: Contents, after: Contents, *tables: str) -> None:
    assert after.keys() == before.keys()
    for table in before.keys() - set(tables):
        assert after[table] == before[table], f"{table} changed"


def one(rows: Rows, **match: object) -> dict[str, object]:
    (found,) = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return found


def sqlite_bytes(engine: Engine) -> bytes | None:
    """SQLite: the database file and its WAL, byte for byte (the shared-memory index is
    rewritten by mere readers); None on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    assert engine.url.database is not None
    path = Path(engine.url.database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@contextmanager
def refusing_history(engine: Engine, org_name: str) -> Iterator[None]:
    """Make the database itself refuse every history insert of one organisation, so the
    server's write really fails (a trigger that raises); undone afterwards.

    SQLite: a ``BEFORE INSERT`` trigger that aborts. PostgreSQL: a ``BEFORE INSERT`` row
    trigger whose function raises, which aborts the server's whole write statement.
    """
    oid = org_id(engine, org_name)
    name = f"refuse_history_{oid}"
    if engine.dialect.name == "sqlite":
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON history WHEN NEW.org_id = {oid} "
            "BEGIN SELECT RAISE(ABORT, 'storage refused the write'); END"
        ]
        drop = [f"DROP TRIGGER {name}"]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'storage refused the write'; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT ON history FOR EACH ROW "
            f"WHEN (NEW.org_id = {oid}) EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER {name} ON history", f"DROP FUNCTION {name}()"]
    with engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))
