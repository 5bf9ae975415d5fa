"""The panel links' rows: token digests scoped to one agent, expiring, revocable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, insert, select, update

from agentstatus.storage.schema import agents, organisations, panel_links


def insert_link(
    conn: Connection,
    token_hash: str,
    oid: int,
    agent_id: int,
    extension: str | None,
    created_ms: int,
    expires_ms: int,
) -> int:
    new_id = conn.execute(
        insert(panel_links).values(
            token_hash=token_hash,
            org_id=oid,
            agent_id=agent_id,
            extension=extension,
            created_ms=created_ms,
            expires_ms=expires_ms,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


_GRANT_QUERY = select(
    panel_links.c.id,
    panel_links.c.org_id,
    panel_links.c.agent_id,
    panel_links.c.extension,
    panel_links.c.expires_ms,
    panel_links.c.revoked,
    organisations.c.name.label("org"),
    agents.c.user_id,
    agents.c.name,
    agents.c.active,
).select_from(
    panel_links.join(organisations, organisations.c.id == panel_links.c.org_id).join(
        agents, agents.c.id == panel_links.c.agent_id
    )
)


def find_grant(conn: Connection, token_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The link with that digest, with its organisation's name (org) and its agent's
    user_id, name and active; None when there is none."""
    return conn.execute(_GRANT_QUERY.where(panel_links.c.token_hash == token_hash)).first()


def valid_rows(
    conn: Connection, oid: int, now: int, agent_id: int | None = None
) -> list[Row[*tuple[Any, ...]]]:
    """id, user_id, extension, created_ms, expires_ms of the links not revoked nor expired
    at ``now`` (of one agent, when given), oldest first."""
    query = (
        select(
            panel_links.c.id,
            agents.c.user_id,
            panel_links.c.extension,
            panel_links.c.created_ms,
            panel_links.c.expires_ms,
        )
        .select_from(panel_links.join(agents, agents.c.id == panel_links.c.agent_id))
        .where(panel_links.c.org_id == oid, ~panel_links.c.revoked, panel_links.c.expires_ms > now)
        .order_by(panel_links.c.id)
    )
    if agent_id is not None:
        query = query.where(panel_links.c.agent_id == agent_id)
    return list(conn.execute(query))


def revoke(conn: Connection, oid: int, link_id: int) -> bool:
    """False when the organisation has no link with that id."""
    done = conn.execute(
        update(panel_links)
        .where(panel_links.c.id == link_id, panel_links.c.org_id == oid)
        .values(revoked=True)
    )
    return done.rowcount != 0


def revoke_of_agent(conn: Connection, agent_id: int) -> int:
    """Revoke every link of one agent; how many were not revoked yet."""
    done = conn.execute(
        update(panel_links)
        .where(panel_links.c.agent_id == agent_id, ~panel_links.c.revoked)
        .values(revoked=True)
    )
    return int(done.rowcount)


def valid_among(conn: Connection, link_ids: set[int], now: int) -> set[int]:
    """Which of these links are neither revoked nor expired, their agent active."""
    query = (
        select(panel_links.c.id)
        .select_from(panel_links.join(agents, agents.c.id == panel_links.c.agent_id))
        .where(
            panel_links.c.id.in_(link_ids),
            and_(~panel_links.c.revoked, agents.c.active),
            panel_links.c.expires_ms > now,
        )
    )
    return set(conn.execute(query).scalars())
