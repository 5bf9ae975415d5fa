"""The rows of the people who sign in to the web pages (password hashes included)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from agentstatus.storage.schema import organisations, users

_USER_QUERY = select(
    users.c.id, users.c.email, users.c.name, users.c.role, organisations.c.name.label("org")
).select_from(users.outerjoin(organisations, organisations.c.id == users.c.org_id))
"""A user as shown: id, email, name, role, org (the organisation's name, or None)."""


def find_id(conn: Connection, email: str) -> int | None:
    found = conn.execute(select(users.c.id).where(users.c.email == email)).first()
    return None if found is None else int(found.id)


def insert_user(
    conn: Connection,
    email: str,
    name: str,
    role: str,
    oid: int | None,
    password_hash: str,
    created_ms: int,
) -> int:
    """The new user's id (IntegrityError when the e-mail is taken)."""
    new_id = conn.execute(
        insert(users).values(
            email=email,
            name=name,
            role=role,
            org_id=oid,
            password_hash=password_hash,
            created_ms=created_ms,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def rows(conn: Connection) -> list[Row[*tuple[Any, ...]]]:
    """Every user by e-mail."""
    return list(conn.execute(_USER_QUERY.order_by(users.c.email)))


def find(conn: Connection, user_id: int) -> Row[*tuple[Any, ...]] | None:
    return conn.execute(_USER_QUERY.where(users.c.id == user_id)).first()


def find_with_hash(conn: Connection, email: str) -> Row[*tuple[Any, ...]] | None:
    """The user with that e-mail and its password_hash, or None."""
    query = _USER_QUERY.add_columns(users.c.password_hash).where(users.c.email == email)
    return conn.execute(query).first()


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def delete_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(users).where(users.c.id == user_id))


def set_role(conn: Connection, user_id: int, role: str, org_id: int | None) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(role=role, org_id=org_id))
