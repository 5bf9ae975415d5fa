"""Callers in the phone system's queues, written as the phone-system link writes them
(``service.queues.record``), for the tests of what reads them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from agentstatus.domain.queues import CallerChange, CallerEvent, QueueCaller, WaitingNow
from agentstatus.service.organisations import org_id
from agentstatus.service.queues import record
from agentstatus.storage.database import reading


def write_callers(engine: Engine, org: str, heard: Sequence[CallerEvent | WaitingNow]) -> int:
    """Record what the phone system said of ``org``'s queues; the events written."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
    return record(engine, oid, heard)


def joined(queue: str, call_id: str, phone: str, at_ms: int) -> CallerEvent:
    return CallerEvent(QueueCaller(queue, call_id, phone), CallerChange.JOINED, at_ms)


def ended(
    change: CallerChange,
    queue: str,
    call_id: str,
    phone: str,
    at_ms: int,
    *,
    user_id: str = "",
) -> CallerEvent:
    """A caller's wait ended at ``at_ms`` (answered, abandoned, left)."""
    return CallerEvent(QueueCaller(queue, call_id, phone), change, at_ms, user_id=user_id)
