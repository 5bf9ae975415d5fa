"""OpenID Connect sign-ins under way: one row per ``state``, deleted when it is used."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from agentstatus.storage.schema import oidc_states


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    nonce: str
    verifier: str
    next_path: str
    created_ms: int


def insert_state(
    conn: Connection, state_hash: str, nonce: str, verifier: str, next_path: str, at: int
) -> None:
    conn.execute(
        insert(oidc_states).values(
            state_hash=state_hash,
            nonce=nonce,
            verifier=verifier,
            next_path=next_path,
            created_ms=at,
        )
    )


def delete_older_than(conn: Connection, at: int) -> None:
    conn.execute(delete(oidc_states).where(oidc_states.c.created_ms < at))


def take(conn: Connection, state_hash: str) -> PendingSignIn | None:
    """The sign-in of this state, deleted; None when there is none or another request took
    it first (the delete's count decides, so two callbacks at once cannot both have it)."""
    row = conn.execute(
        select(
            oidc_states.c.id,
            oidc_states.c.nonce,
            oidc_states.c.verifier,
            oidc_states.c.next_path,
            oidc_states.c.created_ms,
        ).where(oidc_states.c.state_hash == state_hash)
    ).first()
    if row is None:
        return None
    taken = conn.execute(delete(oidc_states).where(oidc_states.c.id == row.id))
    if taken.rowcount != 1:
        return None
    return PendingSignIn(row.nonce, row.verifier, row.next_path, row.created_ms)
