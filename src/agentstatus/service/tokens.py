"""Bearer tokens of the native API: created on the command line, stored as digests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, insert, select, update

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest, generate_token
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import validation
from agentstatus.service.errors import NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.schema import api_tokens, organisations


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    role: Role
    org: str | None
    """The organisation the token is scoped to; None means every organisation."""
    label: str

    def may_access(self, org: str) -> bool:
        return self.org is None or self.org == org


@dataclass(frozen=True, slots=True)
class CreatedToken:
    info: TokenInfo
    token: str


def create_token(
    engine: Engine, role: Role, org: str | None = None, label: str = ""
) -> CreatedToken:
    clear = generate_token()
    clean_label = validation.display_name(label, max_length=128)
    with engine.begin() as conn:
        oid = org_id(conn, org) if org is not None else None
        new_id = conn.execute(
            insert(api_tokens).values(
                token_hash=digest(clear),
                role=role.value,
                org_id=oid,
                label=clean_label,
                created_ms=now_ms(),
            )
        ).inserted_primary_key
    assert new_id is not None
    return CreatedToken(TokenInfo(int(new_id[0]), role, org, clean_label), clear)


_TOKEN_QUERY = select(
    api_tokens.c.id, api_tokens.c.role, api_tokens.c.label, organisations.c.name
).select_from(api_tokens.outerjoin(organisations, organisations.c.id == api_tokens.c.org_id))


def verify_token(engine: Engine, token: str) -> TokenInfo | None:
    with reading(engine) as conn:
        row = conn.execute(
            _TOKEN_QUERY.where(api_tokens.c.token_hash == digest(token), ~api_tokens.c.revoked)
        ).first()
    if row is None:
        return None
    return TokenInfo(row.id, Role(row.role), row.name, row.label)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with reading(engine) as conn:
        rows = conn.execute(_TOKEN_QUERY.where(~api_tokens.c.revoked).order_by(api_tokens.c.id))
        return [TokenInfo(r.id, Role(r.role), r.name, r.label) for r in rows]


def revoked_among(engine: Engine, token_ids: set[int]) -> set[int]:
    """Which of these tokens are revoked (or gone): their open event streams must end."""
    with reading(engine) as conn:
        active = set(
            conn.execute(
                select(api_tokens.c.id).where(
                    api_tokens.c.id.in_(sorted(token_ids)), ~api_tokens.c.revoked
                )
            ).scalars()
        )
    return token_ids - active


def revoke_token(engine: Engine, token_id: int) -> None:
    if not 0 < token_id <= INT64_MAX:  # beyond any stored id (and the database's integers)
        raise NotFound(f"no active token with id {token_id}")
    with engine.begin() as conn:
        done = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, ~api_tokens.c.revoked)
            .values(revoked=True)
        )
        if done.rowcount == 0:
            raise NotFound(f"no active token with id {token_id}")
