"""The extensions' rows, and who holds each (through presence)."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from agentstatus.storage.batches import insert_new
from agentstatus.storage.schema import agents, extensions, presence


def find(conn: Connection, oid: int, sip: str) -> Row[*tuple[Any, ...]] | None:
    """The extension's id and name, or None."""
    return conn.execute(
        select(extensions.c.id, extensions.c.name).where(
            extensions.c.org_id == oid, extensions.c.sip == sip
        )
    ).first()


def exists(conn: Connection, oid: int, sip: str) -> bool:
    query = select(extensions.c.id).where(extensions.c.org_id == oid, extensions.c.sip == sip)
    return conn.execute(query).first() is not None


def insert_extension(conn: Connection, oid: int, sip: str, name: str, at: int) -> None:
    conn.execute(insert(extensions).values(org_id=oid, sip=sip, name=name, created_ms=at))


def rows_with_holders(conn: Connection, oid: int) -> list[Row[*tuple[Any, ...]]]:
    """sip, name and the holding agent's user_id (or None), by extension."""
    query = (
        select(extensions.c.sip, extensions.c.name, agents.c.user_id)
        .select_from(
            extensions.outerjoin(presence, presence.c.extension_id == extensions.c.id).outerjoin(
                agents, agents.c.id == presence.c.agent_id
            )
        )
        .order_by(extensions.c.sip)
    )
    return list(conn.execute(query.where(extensions.c.org_id == oid)))


def holder(conn: Connection, extension_id: int) -> str | None:
    """The user id of the agent holding the extension, or None."""
    user_id: str | None = conn.execute(
        select(agents.c.user_id)
        .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
        .where(presence.c.extension_id == extension_id)
    ).scalar()
    return user_id


def delete_extension(conn: Connection, extension_id: int) -> None:
    """IntegrityError when a presence row points at it (an agent logged in meanwhile)."""
    conn.execute(delete(extensions).where(extensions.c.id == extension_id))


def sips(conn: Connection, oid: int) -> set[str]:
    query = select(extensions.c.sip).where(extensions.c.org_id == oid)
    return set(conn.execute(query).scalars())


_RENAME = (
    update(extensions)
    .where(extensions.c.org_id == bindparam("oid"), extensions.c.sip == bindparam("key"))
    .values(name=bindparam("new_name"))
)


def import_batch(
    conn: Connection, oid: int, rows: Sequence[tuple[str, str]], existing: AbstractSet[str], at: int
) -> tuple[int, int]:
    """One batch of an import of (extension, name): rename the extensions present, create
    the others; (created, renamed)."""
    fresh = [
        {"org_id": oid, "sip": s, "name": n, "created_ms": at} for s, n in rows if s not in existing
    ]
    created = (
        insert_new(
            conn,
            extensions,
            fresh,
            unique=[extensions.c.org_id, extensions.c.sip],
            returning=[extensions.c.sip],
        )
        if fresh
        else []
    )
    inserted = {sip for (sip,) in created}
    renamed = [{"oid": oid, "key": s, "new_name": n} for s, n in rows if s not in inserted]
    if renamed:
        conn.execute(_RENAME, renamed)
    return len(inserted), len(renamed)
