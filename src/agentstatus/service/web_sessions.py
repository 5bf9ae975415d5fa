"""Server-side sessions of the web pages: the cookie holds a random secret, the database
its digest, the user and when it was last used. Deleting the row signs the browser out."""

from __future__ import annotations

import secrets

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.service.users import User, get_user
from agentstatus.storage import web_sessions
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

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
        web_sessions.insert_session(conn, digest(secret), user.id, at)
    return secret


def session_user(engine: Engine, secret: str, idle_ms: int) -> tuple[User, int] | None:
    """The signed-in user and the session's id, or None when the session is unknown,
    revoked or idle for longer than ``idle_ms`` (an idle session is deleted)."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    hashed = digest(secret)
    at = now_ms()
    with reading(engine) as conn:
        row = web_sessions.find(conn, hashed)
        user = None if row is None else get_user(conn, row.user_id)
    if row is None or user is None:
        return None
    if at - row.seen_ms > idle_ms:
        close_session(engine, secret)
        return None
    if at - row.seen_ms >= TOUCH_EVERY_MS:
        with engine.begin() as conn:
            web_sessions.touch(conn, row.id, at)
    return user, int(row.id)


def close_session(engine: Engine, secret: str) -> None:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return
    with engine.begin() as conn:
        web_sessions.delete_by_hash(conn, digest(secret))


def closed_among(engine: Engine, session_ids: set[int]) -> set[int]:
    """Which of these sessions no longer exist (signed out, user removed, new password):
    the event streams they opened end."""
    if not session_ids:
        return set()
    with reading(engine) as conn:
        alive = web_sessions.existing_among(conn, session_ids)
    return session_ids - alive
