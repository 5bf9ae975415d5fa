"""What the Voicenter read endpoints ask of the database: the organisation a Code names
(its address allow-list applied, every refusal audited), its enabled statuses and its
extensions with who holds them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, false, insert, select

from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.calls import Call
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source
from agentstatus.service.phone_calls import calls_by_extension
from agentstatus.service.statuses import Status, status_rows
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, audit, extensions, organisations, presence
from agentstatus.wire.outcomes import Row

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a Code is refused: no organisation has it (row 6), or the organisation's address
    allow-list does not hold the client's address (row 7)."""

    row: Row
    org_id: int | None


@dataclass(frozen=True, slots=True)
class ExtensionState:
    """One extension and who holds it, in which status (nobody: ``user_id`` None, Logout)."""

    sip: str
    name: str
    user_id: str | None
    status: int
    extension_id: int = 0
    agent_name: str = ""
    calls: tuple[Call, ...] = ()
    """Its live calls, when a phone system is connected."""


def authenticate_code(conn: Connection, code: str, address: str | None) -> int | Refusal:
    """The id of the organisation ``code`` names, when ``address`` may use it."""
    org = conn.execute(
        select(organisations.c.id, organisations.c.allowlist).where(
            organisations.c.code_hash == digest(code)
        )
    ).first()
    if org is None:
        return Refusal(Row.AUTHENTICATION_FAILED, None)
    if not address_allowed(org.allowlist, address):
        return Refusal(Row.ADDRESS_NOT_ALLOWED, org.id)
    return int(org.id)


def audit_refusal(engine: Engine, refusal: Refusal, endpoint: str, address: str | None) -> None:
    """The audit row of a refused read: its outcome row, never the Code (SPEC.md 3.2)."""
    with engine.begin() as conn:
        conn.execute(
            insert(audit).values(
                org_id=refusal.org_id,
                user_id=None,
                outcome_row=refusal.row,
                endpoint=endpoint,
                source=Source.GET,
                client_addr=address,
                at_ms=now_ms(),
            )
        )


def authenticated_read(
    engine: Engine,
    code: str,
    address: str | None,
    endpoint: str,
    read: Callable[[Connection, int], T],
) -> T | Row:
    """``read(conn, org_id)`` for the organisation ``code`` names, in one read-only
    transaction; or the refusal's row, audited.

    The audit row is written after the read transaction is over: a refusal then never holds
    one pooled connection while it waits for another, nor a read snapshot while it waits for
    SQLite's write lock.
    """
    with reading(engine) as conn:
        org = authenticate_code(conn, code, address)
        if not isinstance(org, Refusal):
            return read(conn, org)
    audit_refusal(engine, org, endpoint, address)
    return org.row


def read_statuses(
    engine: Engine, code: str, address: str | None, endpoint: str
) -> list[Status] | Row:
    """The enabled statuses, in id order, of the organisation ``code`` names."""
    return authenticated_read(engine, code, address, endpoint, _enabled_statuses)


def read_extensions(
    engine: Engine, code: str, address: str | None, endpoint: str, only: str | None
) -> list[ExtensionState] | Row:
    """The extensions (or the one named ``only``), in SIP order, of the organisation ``code``
    names, with who holds each."""
    return authenticated_read(
        engine, code, address, endpoint, lambda conn, oid: _extension_states(conn, oid, only)
    )


def _enabled_statuses(conn: Connection, oid: int) -> list[Status]:
    return status_rows(conn, oid, enabled_only=True)


def _extension_states(conn: Connection, oid: int, only: str | None) -> list[ExtensionState]:
    query = (
        select(
            extensions.c.id,
            extensions.c.sip,
            extensions.c.name,
            agents.c.user_id,
            agents.c.name.label("agent_name"),
            presence.c.status,
        )
        .select_from(
            extensions.outerjoin(presence, presence.c.extension_id == extensions.c.id).outerjoin(
                agents, agents.c.id == presence.c.agent_id
            )
        )
        .where(extensions.c.org_id == oid)
        .order_by(extensions.c.sip)
    )
    if only is not None:
        # PostgreSQL text cannot hold NUL: such a name matches no extension.
        query = query.where(extensions.c.sip == only if "\x00" not in only else false())
    rows = conn.execute(query).all()
    calls = calls_by_extension(conn, oid)
    return [
        ExtensionState(
            r.sip,
            r.name,
            r.user_id,
            LOGOUT if r.user_id is None else r.status,
            int(r.id),
            r.agent_name or "",
            tuple(calls.get(r.sip, ())),
        )
        for r in rows
    ]
