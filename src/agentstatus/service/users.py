"""People who sign in to the web pages: the roles and scopes of the API tokens, with an
e-mail and a password instead of a bearer token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentstatus.domain.clock import now_ms
from agentstatus.service import passwords, validation
from agentstatus.service.errors import AlreadyExists, InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role
from agentstatus.storage import users, web_sessions
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine, IntegrityError, Row

# Deliberately loose (RFC 5321's full grammar helps nobody here): one @, no spaces, a dot
# or a single label after it (``supervisor@localhost`` works on a LAN).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}")
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    role: Role
    org: str | None
    """The organisation the user may see; None means every organisation."""

    def may_access(self, org: str) -> bool:
        return self.org is None or self.org == org


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(value):
        raise InvalidInput(f"invalid e-mail address {value[:80]!r}")
    return value


def _user(row: Row[Any]) -> User:
    return User(row.id, row.email, row.name, Role(row.role), row.org)


def add_user(
    engine: Engine,
    address: str,
    role: Role,
    password: str,
    org: str | None = None,
    name: str = "",
) -> User:
    clean = email(address)
    clean_name = validation.display_name(name, max_length=128)
    hashed = passwords.hash_password(passwords.check_new(password))
    try:
        with engine.begin() as conn:
            oid = org_id(conn, org) if org is not None else None
            if users.find_id(conn, clean) is not None:
                raise AlreadyExists(f"a user {clean!r} already exists")
            new_id = users.insert_user(conn, clean, clean_name, role.value, oid, hashed, now_ms())
    except IntegrityError:
        raise AlreadyExists(f"a user {clean!r} already exists") from None
    return User(new_id, clean, clean_name, role, org)


def list_users(engine: Engine) -> list[User]:
    with reading(engine) as conn:
        return [_user(r) for r in users.rows(conn)]


def get_user(conn: Connection, user_id: int) -> User | None:
    row = users.find(conn, user_id)
    return None if row is None else _user(row)


def _user_id(conn: Connection, address: str) -> int:
    found = users.find_id(conn, email(address))
    if found is None:
        raise NotFound(f"no user {email(address)!r}")
    return found


def set_password(engine: Engine, address: str, password: str) -> None:
    """A new password; every session of the user is signed out."""
    hashed = passwords.hash_password(passwords.check_new(password))
    with engine.begin() as conn:
        uid = _user_id(conn, address)
        users.set_password_hash(conn, uid, hashed)
        web_sessions.delete_of_user(conn, uid)


def remove_user(engine: Engine, address: str) -> None:
    with engine.begin() as conn:
        uid = _user_id(conn, address)
        web_sessions.delete_of_user(conn, uid)
        users.delete_user(conn, uid)


def authenticate(engine: Engine, address: str, password: str) -> User | None:
    """The user with these credentials, or None; as slow for an unknown e-mail as for a
    wrong password. A hash made with older parameters is replaced."""
    try:
        clean = email(address)
    except InvalidInput:
        passwords.verify(password, None)
        return None
    with reading(engine) as conn:
        row = users.find_with_hash(conn, clean)
    valid, new_hash = passwords.verify(password, None if row is None else row.password_hash)
    if not valid or row is None:
        return None
    if new_hash is not None:
        with engine.begin() as conn:
            users.set_password_hash(conn, row.id, new_hash)
    return _user(row)
