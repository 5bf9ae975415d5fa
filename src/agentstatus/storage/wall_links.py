"""The wall links' rows: token digests of one organisation, expiring, revocable; a row
keeps who made its link and who revoked it, and is never deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, insert, select, update

from agentstatus.storage.schema import organisations, wall_links

_COLUMNS = (
    wall_links.c.id,
    wall_links.c.label,
    wall_links.c.created_ms,
    wall_links.c.created_by,
    wall_links.c.expires_ms,
    wall_links.c.revoked_ms,
    wall_links.c.revoked_by,
)


def insert_link(
    conn: Connection,
    token_hash: str,
    oid: int,
    label: str,
    created_ms: int,
    created_by: str | None,
    expires_ms: int,
) -> int:
    new_id = conn.execute(
        insert(wall_links).values(
            token_hash=token_hash,
            org_id=oid,
            label=label,
            created_ms=created_ms,
            created_by=created_by,
            expires_ms=expires_ms,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def find_grant(conn: Connection, token_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The link with that digest (id, org_id, label, expires_ms, revoked_ms) with its
    organisation's name (org); None when there is none."""
    query = (
        select(
            wall_links.c.id,
            wall_links.c.org_id,
            wall_links.c.label,
            wall_links.c.expires_ms,
            wall_links.c.revoked_ms,
            organisations.c.name.label("org"),
        )
        .select_from(wall_links.join(organisations, organisations.c.id == wall_links.c.org_id))
        .where(wall_links.c.token_hash == token_hash)
    )
    return conn.execute(query).first()


def rows(conn: Connection, oid: int, valid_at: int | None) -> list[Row[*tuple[Any, ...]]]:
    """The organisation's links, oldest first: those neither revoked nor expired at
    ``valid_at``, or every one for None."""
    query = select(*_COLUMNS).where(wall_links.c.org_id == oid).order_by(wall_links.c.id)
    if valid_at is not None:
        query = query.where(wall_links.c.revoked_ms.is_(None), wall_links.c.expires_ms > valid_at)
    return list(conn.execute(query))


def revoke(conn: Connection, oid: int, link_id: int | None, at: int, actor: str | None) -> int:
    """Revoke one link of the organisation (for None: every one still valid at ``at``); a
    link already revoked keeps when and by whom. How many links matched."""
    first = wall_links.c.revoked_ms.is_(None)
    which = (
        wall_links.c.id == link_id
        if link_id is not None
        else and_(first, wall_links.c.expires_ms > at)
    )
    query = (
        update(wall_links)
        .where(wall_links.c.org_id == oid, which)
        .values(
            revoked_ms=func.coalesce(wall_links.c.revoked_ms, at),
            revoked_by=case((first, actor), else_=wall_links.c.revoked_by),
        )
    )
    return int(conn.execute(query).rowcount)


def valid_among(conn: Connection, link_ids: set[int], now: int) -> set[int]:
    """Which of these links are neither revoked nor expired."""
    query = select(wall_links.c.id).where(
        wall_links.c.id.in_(link_ids),
        wall_links.c.revoked_ms.is_(None),
        wall_links.c.expires_ms > now,
    )
    return set(conn.execute(query).scalars())
