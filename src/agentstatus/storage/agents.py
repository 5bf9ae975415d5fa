"""The agents' rows, each created with its presence row (logged out)."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.storage.batches import insert_new
from agentstatus.storage.schema import agents, presence


def find_id(conn: Connection, oid: int, user_id: str) -> int | None:
    found = conn.execute(
        select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user_id)
    ).first()
    return None if found is None else int(found.id)


def insert_agent(conn: Connection, oid: int, user_id: str, name: str, at: int) -> None:
    """An active agent, logged out since ``at``."""
    new_id = conn.execute(
        insert(agents).values(org_id=oid, user_id=user_id, name=name, active=True, created_ms=at)
    ).inserted_primary_key
    assert new_id is not None
    conn.execute(
        insert(presence).values(
            agent_id=new_id[0], org_id=oid, extension_id=None, status=LOGOUT, since_ms=at
        )
    )


def rows(
    conn: Connection, oid: int, *, include_inactive: bool = True
) -> list[Row[*tuple[Any, ...]]]:
    """user_id, name, active of the organisation's agents by user id."""
    query = select(agents.c.user_id, agents.c.name, agents.c.active).where(agents.c.org_id == oid)
    if not include_inactive:
        query = query.where(agents.c.active)
    return list(conn.execute(query.order_by(agents.c.user_id)))


def set_name(conn: Connection, agent_id: int, name: str) -> None:
    conn.execute(update(agents).where(agents.c.id == agent_id).values(name=name))


def set_active(conn: Connection, agent_id: int, active: bool) -> None:
    conn.execute(update(agents).where(agents.c.id == agent_id).values(active=active))


def name_of(conn: Connection, agent_id: int) -> str:
    name: str = conn.execute(select(agents.c.name).where(agents.c.id == agent_id)).scalar_one()
    return name


def is_active(conn: Connection, agent_id: int) -> bool:
    query = select(agents.c.active).where(agents.c.id == agent_id)
    return bool(conn.execute(query).scalar_one())


def move_created_back(conn: Connection, oid: int, since_ms: int) -> int:
    """Agents created after ``since_ms`` exist from then on; how many were moved."""
    moved = conn.execute(
        update(agents)
        .where(agents.c.org_id == oid, agents.c.created_ms > since_ms)
        .values(created_ms=since_ms)
    )
    return int(moved.rowcount)


def user_ids(conn: Connection, oid: int) -> set[str]:
    query = select(agents.c.user_id).where(agents.c.org_id == oid)
    return set(conn.execute(query).scalars())


def known_user_ids(conn: Connection, oid: int, wanted: Sequence[str]) -> set[str]:
    """Which of ``wanted`` are agents of the organisation."""
    query = select(agents.c.user_id).where(agents.c.org_id == oid, agents.c.user_id.in_(wanted))
    return set(conn.execute(query).scalars())


_RENAME = (
    update(agents)
    .where(agents.c.org_id == bindparam("oid"), agents.c.user_id == bindparam("uid"))
    .values(name=bindparam("new_name"))
)


def import_batch(
    conn: Connection, oid: int, rows: Sequence[tuple[str, str]], existing: AbstractSet[str], at: int
) -> tuple[int, int]:
    """One batch of an import of (user id, name): rename the agents present, create the
    others (logged out); (created, renamed)."""
    fresh = [(u, n) for u, n in rows if u not in existing]
    created = (
        insert_new(
            conn,
            agents,
            [
                {"org_id": oid, "user_id": u, "name": n, "active": True, "created_ms": at}
                for u, n in fresh
            ],
            unique=[agents.c.org_id, agents.c.user_id],
            returning=[agents.c.id, agents.c.user_id],
        )
        if fresh
        else []
    )
    if created:
        conn.execute(
            insert(presence),
            [
                {"agent_id": aid, "org_id": oid, "status": LOGOUT, "since_ms": at}
                for aid, _ in created
            ],
        )
    # Those present, and any created by someone else since the import began.
    inserted = {user_id for _, user_id in created}
    renamed = [{"oid": oid, "uid": u, "new_name": n} for u, n in rows if u not in inserted]
    if renamed:
        conn.execute(_RENAME, renamed)
    return len(inserted), len(renamed)


_RECORD = (
    agents.c.id,
    agents.c.user_id,
    agents.c.name,
    agents.c.active,
    agents.c.created_ms,
    agents.c.external_id,
)


def record_by_id(conn: Connection, oid: int, agent_id: int) -> Row[*tuple[Any, ...]] | None:
    """id, user_id, name, active, created_ms, external_id of the organisation's agent with
    this row id."""
    query = select(*_RECORD).where(agents.c.org_id == oid, agents.c.id == agent_id)
    return conn.execute(query).first()


def record_page(
    conn: Connection, oid: int, user_id: str | None, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """How many of the organisation's agents there are (only ``user_id`` when given), and
    ``limit`` of them from ``offset`` on, in row-id order (stable while agents are added)."""
    where = [agents.c.org_id == oid]
    if user_id is not None:
        where.append(agents.c.user_id == user_id)
    total: int = conn.execute(select(func.count()).select_from(agents).where(*where)).scalar_one()
    if limit <= 0:
        return total, []
    query = select(*_RECORD).where(*where).order_by(agents.c.id).offset(offset).limit(limit)
    return total, list(conn.execute(query))


def set_external_id(conn: Connection, oid: int, agent_id: int, external_id: str | None) -> bool:
    """Whether the organisation has the agent (whose external id is now ``external_id``)."""
    query = (
        update(agents)
        .where(agents.c.org_id == oid, agents.c.id == agent_id)
        .values(external_id=external_id)
    )
    return conn.execute(query).rowcount > 0
