"""Logins to Voicenter's real-time monitor (SPEC section 9, issue 25).

A CRM's Events SDK logs in over HTTP with an API token (``/monitorAPI/Login/Token``) or a
web user's e-mail and password (``/Login/User``) and is given a grant: a short-lived socket
token (the socket's ``?token=``) and a refresh token that replaces both
(``/monitorAPI/RefreshIdentityToken``). A grant is of ONE organisation, because the SDK
cannot name one: a token or user of every organisation is refused (make one scoped to the
organisation). Both tokens are random, shown once and kept only as digests.

A grant ends when it is revoked, when its refresh token expires, when its API token is
revoked, or when its user is removed or given a new password (``ended_among``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.codes import digest, generate_monitor_refresh_token, generate_monitor_token
from agentstatus.domain.integers import INT64_MAX
from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.service.errors import NotFound, Unavailable
from agentstatus.service.links import may_be_token
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role, verify_token
from agentstatus.service.users import authenticate
from agentstatus.storage import monitor_logins
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, DataError, DBAPIError, Engine

log = logging.getLogger(__name__)

TOKEN_SECONDS = 3600
REFRESH_SECONDS = 30 * 86400
ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
P = ParamSpec("P")
R = TypeVar("R")


class LoginRefusal(Enum):
    """Why a login or a refresh is refused."""

    WRONG_CREDENTIALS = "wrong credentials"
    """Unknown, revoked or expired: the same refusal whichever (never which part was wrong)."""
    EVERY_ORGANISATION = "every organisation"
    """Valid credentials of every organisation: the monitor is of one organisation."""


@dataclass(frozen=True, slots=True)
class MonitorLogin:
    """A grant's new tokens (shown once) and what they stand for."""

    identity: MonitorIdentity
    token: str
    token_expires_ms: int
    refresh_token: str
    refresh_expires_ms: int


@dataclass(frozen=True, slots=True)
class MonitorGrant:
    """A grant as operators see it (never its tokens)."""

    id: int
    made_from: str
    """``token:ID`` or ``user:ID``."""
    label: str
    """The API token's label or the user's e-mail."""
    created_ms: int
    socket_expires_ms: int
    refresh_expires_ms: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "made_from": self.made_from,
            "label": self.label,
            "created_at": to_iso(self.created_ms),
            "socket_token_expires_at": to_iso(self.socket_expires_ms),
            "refresh_token_expires_at": to_iso(self.refresh_expires_ms),
        }


def _checked(check: Callable[P, R]) -> Callable[P, R | LoginRefusal]:
    """A login's check with the database's failures told apart: a value no row can hold
    (PostgreSQL refuses a NUL in a string) matches none; any other is ``Unavailable``."""

    @wraps(check)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R | LoginRefusal:
        try:
            return check(*args, **kwargs)
        except DataError:
            return LoginRefusal.WRONG_CREDENTIALS
        except DBAPIError:
            log.warning("a monitor login could not reach the database", exc_info=True)
            raise Unavailable("the database is unavailable; try again") from None

    return checked


def _password_key(password_hash: str) -> str:
    # The digest of the hash, not the hash: a copy of this table tells nothing to a
    # password cracker that the users table does not.
    return digest(password_hash)


def _ended(row: Any, now: int) -> bool:
    """Whether a grant's row no longer holds (its socket token's expiry aside)."""
    if row.revoked_ms is not None or row.refresh_expires_ms <= now:
        return True
    if row.token_id is not None:
        return bool(row.token_revoked) or row.token_revoked is None
    if row.user_id is not None:
        hashed = row.user_password_hash
        return hashed is None or _password_key(hashed) != row.password_key
    return True


def _identity(row: Any) -> MonitorIdentity:
    made_from = "token" if row.token_id is not None else "user"
    person = row.token_id if row.token_id is not None else row.user_id
    return MonitorIdentity(
        row.org, int(row.org_id), int(row.id), int(person), f"{made_from}:{int(person)}"
    )


def _new_tokens(token_seconds: int, refresh_seconds: int, at: int) -> dict[str, Any]:
    token, refresh = generate_monitor_token(), generate_monitor_refresh_token()
    return {
        "token": token,
        "refresh": refresh,
        "socket_hash": digest(token),
        "socket_expires_ms": at + token_seconds * 1000,
        "refresh_hash": digest(refresh),
        "refresh_expires_ms": at + refresh_seconds * 1000,
    }


def _grant(
    conn: Connection,
    org: str,
    *,
    token_id: int | None,
    user_id: int | None,
    password_key: str | None,
    token_seconds: int,
    refresh_seconds: int,
) -> MonitorLogin:
    at = now_ms()
    new = _new_tokens(token_seconds, refresh_seconds, at)
    oid = org_id(conn, org)
    grant_id = monitor_logins.insert_login(
        conn,
        oid=oid,
        token_id=token_id,
        user_id=user_id,
        password_key=password_key,
        socket_hash=new["socket_hash"],
        socket_expires_ms=new["socket_expires_ms"],
        refresh_hash=new["refresh_hash"],
        refresh_expires_ms=new["refresh_expires_ms"],
        created_ms=at,
    )
    person = token_id if token_id is not None else user_id
    assert person is not None
    return MonitorLogin(
        MonitorIdentity(org, oid, grant_id, person),
        new["token"],
        new["socket_expires_ms"],
        new["refresh"],
        new["refresh_expires_ms"],
    )


@_checked
def login_with_token(
    engine: Engine,
    api_token: str,
    *,
    token_seconds: int = TOKEN_SECONDS,
    refresh_seconds: int = REFRESH_SECONDS,
) -> MonitorLogin | LoginRefusal:
    """A grant from an API token (admin or supervisor) scoped to one organisation."""
    if not may_be_token(api_token):
        return LoginRefusal.WRONG_CREDENTIALS
    info = verify_token(engine, api_token)
    if info is None or info.role not in ROLES:
        return LoginRefusal.WRONG_CREDENTIALS
    if info.org is None:
        return LoginRefusal.EVERY_ORGANISATION
    with engine.begin() as conn:
        made = _grant(
            conn,
            info.org,
            token_id=info.id,
            user_id=None,
            password_key=None,
            token_seconds=token_seconds,
            refresh_seconds=refresh_seconds,
        )
    log.info("monitor login %d of %s from token %d", made.identity.grant_id, info.org, info.id)
    return made


@_checked
def login_with_user(
    engine: Engine,
    email: str,
    password: str,
    *,
    token_seconds: int = TOKEN_SECONDS,
    refresh_seconds: int = REFRESH_SECONDS,
) -> MonitorLogin | LoginRefusal:
    """A grant from a web user's e-mail and password (the sign-in page's check: Argon2,
    as slow for an unknown e-mail as for a wrong password), the user being of one
    organisation. Slow: call it from a thread, behind a bounded queue."""
    user = authenticate(engine, email, password)
    if user is None or user.role not in ROLES:
        return LoginRefusal.WRONG_CREDENTIALS
    if user.org is None:
        return LoginRefusal.EVERY_ORGANISATION
    with engine.begin() as conn:
        # The hash now stored (authenticate may just have replaced an older one).
        hashed = monitor_logins.password_hash(conn, user.id)
        if hashed is None:  # removed meanwhile
            return LoginRefusal.WRONG_CREDENTIALS
        made = _grant(
            conn,
            user.org,
            token_id=None,
            user_id=user.id,
            password_key=_password_key(hashed),
            token_seconds=token_seconds,
            refresh_seconds=refresh_seconds,
        )
    log.info("monitor login %d of %s from user %d", made.identity.grant_id, user.org, user.id)
    return made


@_checked
def refresh(
    engine: Engine,
    refresh_token: str,
    *,
    token_seconds: int = TOKEN_SECONDS,
    refresh_seconds: int = REFRESH_SECONDS,
) -> MonitorLogin | LoginRefusal:
    """New socket and refresh tokens for a grant that still holds; the old ones stop
    working (of two refreshes with the same token, one wins)."""
    if not may_be_token(refresh_token):
        return LoginRefusal.WRONG_CREDENTIALS
    old_hash = digest(refresh_token)
    at = now_ms()
    new = _new_tokens(token_seconds, refresh_seconds, at)
    with engine.begin() as conn:
        row = monitor_logins.find_by_refresh(conn, old_hash)
        if row is None or _ended(row, at):
            return LoginRefusal.WRONG_CREDENTIALS
        rotated = monitor_logins.rotate(
            conn,
            int(row.id),
            old_hash,
            socket_hash=new["socket_hash"],
            socket_expires_ms=new["socket_expires_ms"],
            refresh_hash=new["refresh_hash"],
            refresh_expires_ms=new["refresh_expires_ms"],
        )
    if not rotated:
        return LoginRefusal.WRONG_CREDENTIALS
    return MonitorLogin(
        _identity(row),
        new["token"],
        new["socket_expires_ms"],
        new["refresh"],
        new["refresh_expires_ms"],
    )


def socket_identity(engine: Engine, socket_token: str) -> MonitorIdentity | None:
    """Who a socket token stands for; None when it is unknown, expired or replaced, or its
    grant has ended."""
    if not may_be_token(socket_token):
        return None
    with reading(engine) as conn:
        row = monitor_logins.find_by_socket(conn, digest(socket_token))
    at = now_ms()
    if row is None or row.socket_expires_ms <= at or _ended(row, at):
        return None
    return _identity(row)


@_checked
def known_token(engine: Engine, token: str) -> LoginRefusal | None:
    """For the oldest SDK's server list (``getMonitorUrls/{token}``): None when ``token``
    is a socket token that holds or an API token that could log in, else the refusal."""
    if socket_identity(engine, token) is not None:
        return None
    if not may_be_token(token):
        return LoginRefusal.WRONG_CREDENTIALS
    info = verify_token(engine, token)
    if info is None or info.role not in ROLES:
        return LoginRefusal.WRONG_CREDENTIALS
    return None if info.org is not None else LoginRefusal.EVERY_ORGANISATION


def ended_among(engine: Engine, grant_ids: set[int]) -> set[int]:
    """Which of these grants have ended (revoked, refresh token expired, API token revoked,
    user removed or given a new password, or gone): their open sockets must end. A socket
    token's own expiry ends nothing here: an open socket outlives it, as on Voicenter's
    monitors, and the SDK refreshes before it."""
    if not grant_ids:
        return set()
    with reading(engine) as conn:
        found = monitor_logins.among(conn, grant_ids)
    at = now_ms()
    holding = {int(r.id) for r in found if not _ended(r, at)}
    return grant_ids - holding


def list_logins(engine: Engine, org: str) -> list[MonitorGrant]:
    """The organisation's grants that still hold, oldest first (never their tokens)."""
    at = now_ms()
    with reading(engine) as conn:
        found = monitor_logins.rows(conn, org_id(conn, org), at)
    return [
        MonitorGrant(
            int(r.id),
            f"token:{r.token_id}" if r.token_id is not None else f"user:{r.user_id}",
            (r.token_label or f"token:{r.token_id}") if r.token_id is not None else r.user_email,
            int(r.created_ms),
            int(r.socket_expires_ms),
            int(r.refresh_expires_ms),
        )
        for r in found
        if not _ended(r, at)
    ]


def revoke_login(engine: Engine, org: str, grant_id: int, actor: str | None = None) -> None:
    """Revoke one grant of the organisation (again: no change); its sockets end within
    seconds. NotFound when the organisation has no such grant."""
    if not 1 <= grant_id <= INT64_MAX:
        raise NotFound(f"no monitor login {grant_id} in this organisation")
    with engine.begin() as conn:
        found = monitor_logins.revoke(conn, org_id(conn, org), grant_id, now_ms(), actor)
    if not found:
        raise NotFound(f"no monitor login {grant_id} in this organisation")
    log.info("monitor login %d of %s revoked by %s", grant_id, org, actor)
