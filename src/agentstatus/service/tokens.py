"""Bearer tokens of the native API: created on the command line, stored as digests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest, generate_token
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import validation
from agentstatus.service.errors import NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage import tokens
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


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

    @property
    def actor(self) -> str:
        """Who the token acts as in the history: its label, or its id when it has none."""
        return self.label or f"token:{self.id}"


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
        new_id = tokens.insert_token(conn, digest(clear), role.value, oid, clean_label, now_ms())
    return CreatedToken(TokenInfo(new_id, role, org, clean_label), clear)


def verify_token(engine: Engine, token: str) -> TokenInfo | None:
    with reading(engine) as conn:
        row = tokens.find_active(conn, digest(token))
    if row is None:
        return None
    return TokenInfo(row.id, Role(row.role), row.name, row.label)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with reading(engine) as conn:
        return [TokenInfo(r.id, Role(r.role), r.name, r.label) for r in tokens.active_rows(conn)]


def revoked_among(engine: Engine, token_ids: set[int]) -> set[int]:
    """Which of these tokens are revoked (or gone): their open event streams must end."""
    with reading(engine) as conn:
        active = tokens.active_among(conn, token_ids)
    return token_ids - active


def revoke_token(engine: Engine, token_id: int) -> None:
    if not 0 < token_id <= INT64_MAX:  # beyond any stored id (and the database's integers)
        raise NotFound(f"no active token with id {token_id}")
    with engine.begin() as conn:
        if not tokens.revoke(conn, token_id):
            raise NotFound(f"no active token with id {token_id}")
