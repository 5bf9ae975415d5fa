"""Server-side sessions of the web pages: the cookie holds a random secret, the database
its digest, the user and when it was last used. Deleting the row signs the browser out."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, delete, insert, select, update

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.service.users import User, get_user
from agentstatus.storage.database import reading
from agentstatus.storage.schema import web_sessions

# ``seen_ms`` is the last request, to the second: a request writes it when it is a second
# or more old (a page's several requests in one second are one write). The idle timeout is
# counted from it, so it ends within a second of the setting, never up to a minute early.
TOUCH_EVERY_MS = 1_000
MAX_SECRET_LENGTH = 128


def open_session(engine: Engine, user: User) -> str:
    """A new session for ``user``; returns the cookie's secret (shown nowhere else)."""
    secret = secrets.token_urlsafe(32)
    at = now_ms()
    with engine.begin() as conn:
        conn.execute(
            insert(web_sessions).values(
                secret_hash=digest(secret), user_id=user.id, created_ms=at, seen_ms=at
            )
        )
    return secret


def session_user(engine: Engine, secret: str, idle_ms: int) -> tuple[User, int] | None:
    """The signed-in user and the session's id, or None when the session is unknown,
    revoked or idle for longer than ``idle_ms`` (an idle session is deleted)."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    hashed = digest(secret)
    at = now_ms()
    with reading(engine) as conn:
        row = conn.execute(
            select(web_sessions.c.id, web_sessions.c.user_id, web_sessions.c.seen_ms).where(
                web_sessions.c.secret_hash == hashed
            )
        ).first()
        user = None if row is None else get_user(conn, row.user_id)
    if row is None or user is None:
        return None
    if at - row.seen_ms > idle_ms:
        close_session(engine, secret)
        return None
    if at - row.seen_ms >= TOUCH_EVERY_MS:
        with engine.begin() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id == row.id).values(seen_ms=at))
    return user, int(row.id)


def close_session(engine: Engine, secret: str) -> None:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return
    with engine.begin() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.secret_hash == digest(secret)))


def closed_among(engine: Engine, session_ids: set[int]) -> set[int]:
    """Which of these sessions no longer exist (signed out, user removed, new password):
    the event streams they opened end."""
    if not session_ids:
        return set()
    with reading(engine) as conn:
        alive = set(
            conn.execute(
                select(web_sessions.c.id).where(web_sessions.c.id.in_(session_ids))
            ).scalars()
        )
    return session_ids - alive
