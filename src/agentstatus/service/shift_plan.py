"""The organisation's one shift-end deadline: its next occurrence, planned in the caller's
transaction (when the shift end or the time zone is set, and after the shift end acted)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from agentstatus.domain.policies import ShiftEnd, next_shift_end, parse_shift_end
from agentstatus.storage import organisations, policies
from agentstatus.storage.policies import SHIFT as SHIFT
from agentstatus.storage.types import Connection


def shift_of(conn: Connection, oid: int) -> ShiftEnd | None:
    stored = organisations.shift_end(conn, oid)
    return None if stored is None else parse_shift_end(*stored)


def replan_shift(conn: Connection, oid: int, after_ms: int, zone: ZoneInfo) -> int | None:
    """Replace the organisation's shift deadline by its next occurrence after ``after_ms``
    (in the caller's transaction); when it is, or None without a shift end. The
    organisation's row is locked first (on PostgreSQL), so that two re-plans (a setting, a
    time zone, the runner after acting) follow one another and leave one deadline."""
    organisations.lock(conn, oid)
    policies.delete_shift_deadline(conn, oid)
    shift = shift_of(conn, oid)
    if shift is None:
        return None
    due = next_shift_end(shift, after_ms, zone)
    policies.insert_shift_deadline(conn, oid, due)
    return due
