"""Agents by their row id, a page at a time: how a provisioning client (SCIM) sees them.

The row id is stable for an agent's whole life (the user id is what a CRM sends, the row id
is what an identity provider stores), so it is the id such a client is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentstatus.domain.integers import INT64_MAX
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage import agents
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

EXTERNAL_ID_LENGTH = 256


@dataclass(frozen=True, slots=True)
class AgentRecord:
    row_id: int
    user_id: str
    name: str
    active: bool
    created_ms: int
    external_id: str | None
    """What a provisioning client calls the agent (SCIM's ``externalId``), if it said."""


@dataclass(frozen=True, slots=True)
class AgentPage:
    total: int
    """How many agents match, over every page."""
    records: list[AgentRecord]


def _record(row: Any) -> AgentRecord:  # a storage row (storage.agents.record_by_id)
    return AgentRecord(
        row.id, row.user_id, row.name, bool(row.active), row.created_ms, row.external_id
    )


def record_by_id(engine: Engine, org: str, row_id: int) -> AgentRecord:
    """The organisation's agent with this row id; NotFound for any other (or none)."""
    if not 0 < row_id <= INT64_MAX:
        raise NotFound(f"no agent with id {row_id} in this organisation")
    with reading(engine) as conn:
        row = agents.record_by_id(conn, org_id(conn, org), row_id)
    if row is None:
        raise NotFound(f"no agent with id {row_id} in this organisation")
    return _record(row)


def record_page(
    engine: Engine, org: str, *, user_id: str | None, offset: int, limit: int
) -> AgentPage:
    """``limit`` agents from the ``offset``-th (0-based), in row-id order; only the one
    with ``user_id`` when given."""
    if user_id is not None and "\x00" in user_id:  # PostgreSQL text holds no NUL
        return AgentPage(0, [])
    with reading(engine) as conn:
        total, rows = agents.record_page(conn, org_id(conn, org), user_id, offset, limit)
    return AgentPage(total, [_record(r) for r in rows])


def clean_external_id(external_id: str | None) -> str | None:
    """``external_id`` as it is kept (kept exactly: it is the client's); empty is none."""
    if external_id is not None and len(external_id) > EXTERNAL_ID_LENGTH:
        raise InvalidInput(f"externalId is longer than {EXTERNAL_ID_LENGTH} characters")
    if external_id is not None and not external_id.isprintable():
        raise InvalidInput("externalId must not contain control characters")
    return external_id or None


def set_external_id(engine: Engine, org: str, row_id: int, external_id: str | None) -> None:
    """Keep what the provisioning client calls the agent (None: nothing)."""
    external_id = clean_external_id(external_id)
    with engine.begin() as conn:
        if not agents.set_external_id(conn, org_id(conn, org), row_id, external_id):
            raise NotFound(f"no agent with id {row_id} in this organisation")
