"""Signing in through an OpenID provider (issue 26): the sign-ins under way (state, nonce,
PKCE verifier; a state is used once), who a verified ID token's claims sign in, and the
audit row of every refusal.

Who signs in: without a role claim, the user agentstatus knows by the token's verified
e-mail, with agentstatus's role and organisation. With ``AGENTSTATUS_OIDC_ROLE_CLAIM``, the
claim decides: a value ``ROLE:ORG`` (``supervisor:acme``; ``admin:*`` or
``supervisor:*`` for every organisation), or a list of them (the first that names a role
and an organisation agentstatus has wins). Such a user is created on the first sign-in and
their role follows the claim at every sign-in after.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.service.errors import InvalidInput
from agentstatus.service.tokens import Role
from agentstatus.service.users import User, email, get_user
from agentstatus.storage import oidc_states, organisations, users
from agentstatus.storage.audit import MAX_USER_ID, AuditRow, write_audit
from agentstatus.storage.types import Connection, Engine, IntegrityError
from agentstatus.wire.outcomes import Row

PENDING_MS = 10 * 60 * 1000
"""A sign-in must come back from the provider within ten minutes."""
MAX_STATE_LENGTH = 128
ENDPOINT = "/auth/oidc/callback"
# No password signs in a user made by the provider: no hash reads this one.
NO_PASSWORD = "!oidc"  # noqa: S105 (not a password: a hash no password matches)


class Failure(StrEnum):
    """Why a sign-in through the provider was refused; the audit row's ``source``."""

    STATE = "oidc-state"  # unknown, used already, or expired
    PROVIDER = "oidc-provider"  # unreachable, or an error from it
    TOKEN = "oidc-token"  # noqa: S105 - the ID token is forged, expired, or for someone else
    UNVERIFIED = "oidc-unverified"  # no verified e-mail in it
    UNKNOWN_USER = "oidc-user"  # agentstatus knows no such user
    NO_ROLE = "oidc-role"  # the role claim names no role here


@dataclass(frozen=True, slots=True)
class Started:
    state: str
    nonce: str
    verifier: str


def start(engine: Engine, next_path: str) -> Started:
    """A new sign-in: its state (only the digest is kept), nonce and PKCE verifier."""
    begun = Started(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64))
    at = now_ms()
    with engine.begin() as conn:
        oidc_states.delete_older_than(conn, at - PENDING_MS)
        oidc_states.insert_state(
            conn, digest(begun.state), begun.nonce, begun.verifier, next_path, at
        )
    return begun


def take(engine: Engine, state: str) -> oidc_states.PendingSignIn | None:
    """The sign-in of ``state``, once; None when unknown, used or expired."""
    if not state or len(state) > MAX_STATE_LENGTH:
        return None
    with engine.begin() as conn:
        pending = oidc_states.take(conn, digest(state))
    if pending is None or now_ms() - pending.created_ms > PENDING_MS:
        return None
    return pending


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The token's e-mail when the provider says it is verified, else None."""
    value = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(value, str):
        return None
    try:
        return email(value)
    except InvalidInput:
        return None


def _grants(value: Any) -> list[tuple[Role, str | None]]:
    """The ``ROLE:ORG`` values of a claim, in order; anything else is left out."""
    values = value if isinstance(value, list) else [value]
    found: list[tuple[Role, str | None]] = []
    for item in values:
        if not isinstance(item, str) or ":" not in item:
            continue
        role, _, org = item.strip().partition(":")
        if role in (Role.ADMIN.value, Role.SUPERVISOR.value) and org:
            found.append((Role(role), None if org == "*" else org))
    return found


def _by_claim(conn: Connection, address: str, value: Any) -> User | Failure:
    for role, org in _grants(value):
        oid = None if org is None else organisations.find_id(conn, org)
        if org is not None and oid is None:
            continue
        existing = users.find_id(conn, address)
        if existing is None:
            uid = users.insert_user(conn, address, "", role.value, oid, NO_PASSWORD, now_ms())
        else:
            uid = existing
            users.set_role(conn, uid, role.value, oid)
        found = get_user(conn, uid)
        return Failure.NO_ROLE if found is None else found
    return Failure.NO_ROLE


def user_of(engine: Engine, claims: Mapping[str, Any], role_claim: str | None) -> User | Failure:
    """Who a verified ID token signs in, or why nobody."""
    address = verified_email(claims)
    if address is None:
        return Failure.UNVERIFIED
    try:
        with engine.begin() as conn:
            if role_claim:
                return _by_claim(conn, address, claims.get(role_claim))
            uid = users.find_id(conn, address)
            found = None if uid is None else get_user(conn, uid)
    except IntegrityError:  # the same new user signing in twice at once: the other won
        return user_of(engine, claims, role_claim)
    return Failure.UNKNOWN_USER if found is None else found


def audit_failure(engine: Engine, failure: Failure, who: str | None, address: str | None) -> None:
    """The audit row of a refused sign-in: the e-mail when the token named one, never a
    token, code or secret."""
    row = AuditRow(
        None,
        None if who is None else who[:MAX_USER_ID],
        Row.AUTHENTICATION_FAILED,
        ENDPOINT,
        failure.value,
        address,
        now_ms(),
    )
    with engine.begin() as conn:
        write_audit(conn, row)
