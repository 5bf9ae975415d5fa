"""The API tokens' rows: their digests, roles and scopes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from agentstatus.storage.schema import api_tokens, organisations

_TOKEN_QUERY = select(
    api_tokens.c.id, api_tokens.c.role, api_tokens.c.label, organisations.c.name
).select_from(api_tokens.outerjoin(organisations, organisations.c.id == api_tokens.c.org_id))
"""A token as shown: id, role, label, name (its organisation's, or None)."""


def insert_token(
    conn: Connection, token_hash: str, role: str, oid: int | None, label: str, created_ms: int
) -> int:
    new_id = conn.execute(
        insert(api_tokens).values(
            token_hash=token_hash, role=role, org_id=oid, label=label, created_ms=created_ms
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def find_active(conn: Connection, token_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The token with that digest unless revoked."""
    query = _TOKEN_QUERY.where(api_tokens.c.token_hash == token_hash, ~api_tokens.c.revoked)
    return conn.execute(query).first()


def active_rows(conn: Connection) -> list[Row[*tuple[Any, ...]]]:
    """The tokens not revoked, by id."""
    return list(conn.execute(_TOKEN_QUERY.where(~api_tokens.c.revoked).order_by(api_tokens.c.id)))


def active_among(conn: Connection, token_ids: set[int]) -> set[int]:
    """Which of these tokens exist and are not revoked."""
    query = select(api_tokens.c.id).where(
        api_tokens.c.id.in_(sorted(token_ids)), ~api_tokens.c.revoked
    )
    return set(conn.execute(query).scalars())


def revoke(conn: Connection, token_id: int) -> bool:
    """Revoke an active token; False when there is none with that id."""
    done = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, ~api_tokens.c.revoked)
        .values(revoked=True)
    )
    return done.rowcount != 0
