"""The presence rows: which extension each agent holds, in which status, since when."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Row, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.storage.schema import agents, extensions, presence, statuses

PRESENCE_QUERY = (
    select(
        agents.c.user_id,
        agents.c.name,
        extensions.c.sip,
        presence.c.status,
        statuses.c.name.label("status_name"),
        presence.c.since_ms,
    )
    .select_from(
        agents.join(presence, presence.c.agent_id == agents.c.id)
        .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
        .outerjoin(
            statuses,
            (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
        )
    )
    .order_by(agents.c.user_id)
)
"""An agent's presence as shown: user_id, name, sip, status, status_name, since_ms."""


def active_rows(
    conn: Connection, oid: int, *, after: str | None = None, limit: int | None = None
) -> Iterator[Row[*tuple[Any, ...]]]:
    """Active agents' ``PRESENCE_QUERY`` rows in user id order, after ``after``, fetched a
    thousand at a time (a large organisation is never held in memory as rows)."""
    query = PRESENCE_QUERY.where(agents.c.org_id == oid, agents.c.active)
    if after is not None:
        query = query.where(agents.c.user_id > after)
    if limit is not None:
        query = query.limit(limit)
    yield from conn.execute(query, execution_options={"yield_per": 1000})


def row_of_agent(conn: Connection, agent_id: int) -> Row[*tuple[Any, ...]] | None:
    """One agent's ``PRESENCE_QUERY`` row by its row id, or None."""
    return conn.execute(PRESENCE_QUERY.where(agents.c.id == agent_id)).first()


def logged_in_user_ids(conn: Connection, oid: int) -> list[str]:
    """The agents holding an extension or in a status other than logged out, by user id."""
    rows = conn.execute(
        select(agents.c.user_id)
        .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
        .where(presence.c.org_id == oid)
        .where(presence.c.extension_id.is_not(None) | (presence.c.status != LOGOUT))
        .order_by(agents.c.user_id)
    )
    return list(rows.scalars())


def bump_version(conn: Connection, agent_id: int) -> None:
    """Make any change decided on what was read before this transaction fail its
    compare-and-set (and decide again)."""
    conn.execute(
        update(presence)
        .where(presence.c.agent_id == agent_id)
        .values(version=presence.c.version + 1)
    )
