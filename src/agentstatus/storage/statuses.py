"""The status catalogue's rows of each organisation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from agentstatus.domain.catalogue import StatusDefinition
from agentstatus.storage.schema import statuses


def find(conn: Connection, oid: int, sid: int) -> Row[*tuple[Any, ...]] | None:
    """The status's row (every column of ``statuses``), or None."""
    return conn.execute(
        select(statuses).where(statuses.c.org_id == oid, statuses.c.status_id == sid)
    ).first()


def rows(conn: Connection, oid: int, *, enabled_only: bool = False) -> list[Row[*tuple[Any, ...]]]:
    """The organisation's statuses by id."""
    query = select(statuses).where(statuses.c.org_id == oid).order_by(statuses.c.status_id)
    if enabled_only:
        query = query.where(statuses.c.enabled)
    return list(conn.execute(query))


def exists(conn: Connection, oid: int, sid: int) -> bool:
    query = select(statuses.c.status_id).where(
        statuses.c.org_id == oid, statuses.c.status_id == sid
    )
    return conn.execute(query).first() is not None


def insert_status(
    conn: Connection, oid: int, sid: int, name: str, color: str, *, available: bool
) -> None:
    conn.execute(
        insert(statuses).values(
            org_id=oid,
            status_id=sid,
            name=name,
            color=color,
            available=available,
            enabled=True,
        )
    )


def insert_catalogue(conn: Connection, oid: int, catalogue: Iterable[StatusDefinition]) -> None:
    """A new organisation's catalogue, in one statement."""
    conn.execute(
        insert(statuses),
        [
            {
                "org_id": oid,
                "status_id": s.id,
                "name": s.name,
                "color": s.color,
                "available": s.available,
                "enabled": s.enabled,
            }
            for s in catalogue
        ],
    )


def update_status(conn: Connection, oid: int, sid: int, values: Mapping[str, object]) -> None:
    """Set ``values`` (column name to value: name, color, available, enabled, limit_seconds,
    limit_action) on one status."""
    conn.execute(
        update(statuses)
        .where(statuses.c.org_id == oid, statuses.c.status_id == sid)
        .values(**values)
    )
