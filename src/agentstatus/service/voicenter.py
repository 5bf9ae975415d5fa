"""What the Voicenter read endpoints ask of the database: the organisation a Code names
(its address allow-list applied, every refusal audited), its enabled statuses, its
extensions with who holds them and its queues with their callers waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.calls import Call
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source
from agentstatus.domain.phone_registration import PhoneState
from agentstatus.domain.queues import QueueNow
from agentstatus.service.phone_calls import calls_by_extension
from agentstatus.service.phone_registration import phones_by_extension
from agentstatus.service.queues import queues_of
from agentstatus.service.statuses import Status, status_rows
from agentstatus.storage.audit import AuditRow, write_audit
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine
from agentstatus.storage.voicenter_reads import code_holder, held_extensions
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
    phone: PhoneState = PhoneState.UNKNOWN
    """Its phone's registration, as the phone system last said."""


def authenticate_code(conn: Connection, code: str, address: str | None) -> int | Refusal:
    """The id of the organisation ``code`` names, when ``address`` may use it."""
    org = code_holder(conn, digest(code))
    if org is None:
        return Refusal(Row.AUTHENTICATION_FAILED, None)
    if not address_allowed(org.allowlist, address):
        return Refusal(Row.ADDRESS_NOT_ALLOWED, org.org_id)
    return org.org_id


def audit_refusal(
    engine: Engine, refusal: Refusal, endpoint: str, source: Source, address: str | None
) -> None:
    """The audit row of a refused read: its outcome row, never the Code (SPEC.md 3.2)."""
    row = AuditRow(refusal.org_id, None, refusal.row, endpoint, source, address, now_ms())
    with engine.begin() as conn:
        write_audit(conn, row)


def authenticated_read(
    engine: Engine,
    code: str,
    address: str | None,
    endpoint: str,
    source: Source,
    read: Callable[[Connection, int], T],
) -> T | Row:
    """``read(conn, org_id)`` for the organisation ``code`` names, in one read-only
    transaction; or the refusal's row, audited with the request's ``source`` (its method).

    The audit row is written after the read transaction is over: a refusal then never holds
    one pooled connection while it waits for another, nor a read snapshot while it waits for
    SQLite's write lock.
    """
    with reading(engine) as conn:
        org = authenticate_code(conn, code, address)
        if not isinstance(org, Refusal):
            return read(conn, org)
    audit_refusal(engine, org, endpoint, source, address)
    return org.row


def read_statuses(
    engine: Engine, code: str, address: str | None, endpoint: str, *, source: Source
) -> list[Status] | Row:
    """The enabled statuses, in id order, of the organisation ``code`` names."""
    return authenticated_read(engine, code, address, endpoint, source, _enabled_statuses)


def read_extensions(
    engine: Engine,
    code: str,
    address: str | None,
    endpoint: str,
    only: str | None,
    *,
    source: Source,
) -> list[ExtensionState] | Row:
    """The extensions (or the one named ``only``), in SIP order, of the organisation ``code``
    names, with who holds each."""
    return authenticated_read(
        engine,
        code,
        address,
        endpoint,
        source,
        lambda conn, oid: _extension_states(conn, oid, only),
    )


def read_queues(
    engine: Engine,
    code: str,
    address: str | None,
    endpoint: str,
    only: str | None,
    *,
    source: Source,
    at_ms: int,
) -> list[QueueNow] | Row:
    """The queues heard of (or the one named ``only``; none when no queue has that name),
    by name, with their callers waiting at ``at_ms``, of the organisation ``code`` names."""
    return authenticated_read(
        engine, code, address, endpoint, source, lambda conn, oid: queues_of(conn, oid, at_ms, only)
    )


def _enabled_statuses(conn: Connection, oid: int) -> list[Status]:
    return status_rows(conn, oid, enabled_only=True)


def _extension_states(conn: Connection, oid: int, only: str | None) -> list[ExtensionState]:
    rows = held_extensions(conn, oid, only)
    calls = calls_by_extension(conn, oid)
    phones = phones_by_extension(conn, oid)
    return [
        ExtensionState(
            r.sip,
            r.name,
            r.user_id,
            LOGOUT if r.user_id is None or r.status is None else r.status,
            r.extension_id,
            r.agent_name or "",
            tuple(calls.get(r.sip, ())),
            phones.get(r.sip, PhoneState.UNKNOWN),
        )
        for r in rows
    ]
