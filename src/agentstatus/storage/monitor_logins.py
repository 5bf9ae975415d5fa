"""The monitor logins' rows (Voicenter's real-time monitor, issue 25): grants of one
organisation made from an API token or a web user, with the digests of their current
socket and refresh tokens. Rows are never deleted but with their user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, case, func, insert, select, update

from agentstatus.storage.schema import api_tokens, monitor_logins, organisations, users

_GRANT = select(
    monitor_logins.c.id,
    monitor_logins.c.org_id,
    organisations.c.name.label("org"),
    monitor_logins.c.token_id,
    monitor_logins.c.user_id,
    monitor_logins.c.password_key,
    monitor_logins.c.socket_expires_ms,
    monitor_logins.c.refresh_expires_ms,
    monitor_logins.c.created_ms,
    monitor_logins.c.revoked_ms,
    monitor_logins.c.revoked_by,
    api_tokens.c.revoked.label("token_revoked"),
    api_tokens.c.label.label("token_label"),
    users.c.email.label("user_email"),
    users.c.password_hash.label("user_password_hash"),
).select_from(
    monitor_logins.join(organisations, organisations.c.id == monitor_logins.c.org_id)
    .outerjoin(api_tokens, api_tokens.c.id == monitor_logins.c.token_id)
    .outerjoin(users, users.c.id == monitor_logins.c.user_id)
)
"""A grant with what decides whether it still holds: its own revocation and expiries, its
API token's ``token_revoked``, its user's ``user_password_hash`` (None: the user is gone)."""


def insert_login(
    conn: Connection,
    *,
    oid: int,
    token_id: int | None,
    user_id: int | None,
    password_key: str | None,
    socket_hash: str,
    socket_expires_ms: int,
    refresh_hash: str,
    refresh_expires_ms: int,
    created_ms: int,
) -> int:
    new_id = conn.execute(
        insert(monitor_logins).values(
            org_id=oid,
            token_id=token_id,
            user_id=user_id,
            password_key=password_key,
            socket_hash=socket_hash,
            socket_expires_ms=socket_expires_ms,
            refresh_hash=refresh_hash,
            refresh_expires_ms=refresh_expires_ms,
            created_ms=created_ms,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def password_hash(conn: Connection, user_id: int) -> str | None:
    """The user's password hash as stored now (None: no such user)."""
    found = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).first()
    return None if found is None else str(found.password_hash)


def find_by_socket(conn: Connection, socket_hash: str) -> Row[*tuple[Any, ...]] | None:
    return conn.execute(_GRANT.where(monitor_logins.c.socket_hash == socket_hash)).first()


def find_by_refresh(conn: Connection, refresh_hash: str) -> Row[*tuple[Any, ...]] | None:
    return conn.execute(_GRANT.where(monitor_logins.c.refresh_hash == refresh_hash)).first()


def among(conn: Connection, grant_ids: set[int]) -> list[Row[*tuple[Any, ...]]]:
    """The grants of these ids that exist."""
    return list(conn.execute(_GRANT.where(monitor_logins.c.id.in_(sorted(grant_ids)))))


def rows(conn: Connection, oid: int, valid_at: int) -> list[Row[*tuple[Any, ...]]]:
    """The organisation's grants neither revoked nor past their refresh expiry at
    ``valid_at``, oldest first (their sources are the service's to judge)."""
    query = _GRANT.where(
        monitor_logins.c.org_id == oid,
        monitor_logins.c.revoked_ms.is_(None),
        monitor_logins.c.refresh_expires_ms > valid_at,
    ).order_by(monitor_logins.c.id)
    return list(conn.execute(query))


def rotate(
    conn: Connection,
    grant_id: int,
    old_refresh_hash: str,
    *,
    socket_hash: str,
    socket_expires_ms: int,
    refresh_hash: str,
    refresh_expires_ms: int,
) -> bool:
    """Replace both tokens of a grant not revoked, if its refresh token is still
    ``old_refresh_hash`` (of two refreshes with one token, one wins); whether it did."""
    done = conn.execute(
        update(monitor_logins)
        .where(
            monitor_logins.c.id == grant_id,
            monitor_logins.c.refresh_hash == old_refresh_hash,
            monitor_logins.c.revoked_ms.is_(None),
        )
        .values(
            socket_hash=socket_hash,
            socket_expires_ms=socket_expires_ms,
            refresh_hash=refresh_hash,
            refresh_expires_ms=refresh_expires_ms,
        )
    )
    return done.rowcount != 0


def revoke(conn: Connection, oid: int, grant_id: int, at: int, actor: str | None) -> int:
    """Revoke one grant of the organisation; one already revoked keeps when and by whom.
    How many matched (0 or 1)."""
    first = monitor_logins.c.revoked_ms.is_(None)
    query = (
        update(monitor_logins)
        .where(monitor_logins.c.org_id == oid, monitor_logins.c.id == grant_id)
        .values(
            revoked_ms=func.coalesce(monitor_logins.c.revoked_ms, at),
            revoked_by=case((first, actor), else_=monitor_logins.c.revoked_by),
        )
    )
    return int(conn.execute(query).rowcount)
