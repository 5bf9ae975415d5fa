"""The web pages' session rows: the digest of the cookie's secret, the user, last use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from agentstatus.storage.schema import web_sessions


def insert_session(conn: Connection, secret_hash: str, user_id: int, at: int) -> None:
    conn.execute(
        insert(web_sessions).values(
            secret_hash=secret_hash, user_id=user_id, created_ms=at, seen_ms=at
        )
    )


def find(conn: Connection, secret_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The session's id, user_id and seen_ms, or None."""
    return conn.execute(
        select(web_sessions.c.id, web_sessions.c.user_id, web_sessions.c.seen_ms).where(
            web_sessions.c.secret_hash == secret_hash
        )
    ).first()


def touch(conn: Connection, session_id: int, at: int) -> None:
    conn.execute(update(web_sessions).where(web_sessions.c.id == session_id).values(seen_ms=at))


def delete_by_hash(conn: Connection, secret_hash: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.secret_hash == secret_hash))


def delete_of_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


def existing_among(conn: Connection, session_ids: set[int]) -> set[int]:
    query = select(web_sessions.c.id).where(web_sessions.c.id.in_(session_ids))
    return set(conn.execute(query).scalars())
