"""The organisations' rows: names, codes (as digests) and the settings kept on the row
(allow-list, embed origins, time zone, end of the shift)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from agentstatus.storage.schema import agents, extensions, organisations


def find_id(conn: Connection, name: str) -> int | None:
    found = conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first()
    return None if found is None else int(found.id)


def find_id_by_code_hash(conn: Connection, code_hash: str) -> int | None:
    found = conn.execute(
        select(organisations.c.id).where(organisations.c.code_hash == code_hash)
    ).first()
    return None if found is None else int(found.id)


def insert_organisation(conn: Connection, name: str, code_hash: str, created_ms: int) -> int:
    """The new organisation's id (IntegrityError when the name or the code is taken)."""
    new_id = conn.execute(
        insert(organisations).values(name=name, code_hash=code_hash, created_ms=created_ms)
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def summaries(conn: Connection) -> list[Row[*tuple[Any, ...]]]:
    """Every organisation by name: name, allowlist (JSON), created_ms, and how many agents
    and extensions it has."""
    agent_count = (
        select(func.count()).where(agents.c.org_id == organisations.c.id).scalar_subquery()
    )
    extension_count = (
        select(func.count()).where(extensions.c.org_id == organisations.c.id).scalar_subquery()
    )
    query = select(
        organisations.c.name,
        organisations.c.allowlist,
        organisations.c.created_ms,
        agent_count.label("agents"),
        extension_count.label("extensions"),
    ).order_by(organisations.c.name)
    return list(conn.execute(query))


def _set(conn: Connection, oid: int, **values: object) -> None:
    conn.execute(update(organisations).where(organisations.c.id == oid).values(**values))


def set_code_hash(conn: Connection, oid: int, code_hash: str) -> None:
    """IntegrityError when another organisation has that code."""
    _set(conn, oid, code_hash=code_hash)


def set_allowlist(conn: Connection, oid: int, allowlist_json: str | None) -> None:
    _set(conn, oid, allowlist=allowlist_json)


def set_embed_origins(conn: Connection, oid: int, origins_json: str | None) -> None:
    _set(conn, oid, embed_origins=origins_json)


def embed_origins(conn: Connection, oid: int) -> str | None:
    """The stored JSON list, or None."""
    query = select(organisations.c.embed_origins).where(organisations.c.id == oid)
    stored: str | None = conn.execute(query).scalar()
    return stored


def set_timezone(conn: Connection, oid: int, zone_key: str) -> None:
    _set(conn, oid, timezone=zone_key)


def timezone(conn: Connection, oid: int) -> str | None:
    query = select(organisations.c.timezone).where(organisations.c.id == oid)
    name: str | None = conn.execute(query).scalar()
    return name


def set_shift_end(conn: Connection, oid: int, time: str | None, days: str | None) -> None:
    _set(conn, oid, shift_end=time, shift_days=days)


def shift_end(conn: Connection, oid: int) -> tuple[str, str | None] | None:
    """The end of the shift (``HH:MM``) and its days as stored; None without one."""
    row = conn.execute(
        select(organisations.c.shift_end, organisations.c.shift_days).where(
            organisations.c.id == oid
        )
    ).first()
    if row is None or row.shift_end is None:
        return None
    return row.shift_end, row.shift_days


def lock(conn: Connection, oid: int) -> None:
    """Lock the organisation's row until the transaction ends (on PostgreSQL; SQLite's
    writer holds the whole database already)."""
    conn.execute(select(organisations.c.id).where(organisations.c.id == oid).with_for_update())
