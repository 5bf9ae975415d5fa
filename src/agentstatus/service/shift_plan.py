"""The organisation's one shift-end deadline: its next occurrence, planned in the caller's
transaction (when the shift end or the time zone is set, and after the shift end acted)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select

from agentstatus.domain.policies import ShiftEnd, next_shift_end, parse_shift_end
from agentstatus.storage.schema import deadlines, organisations

SHIFT = "shift"


def shift_of(conn: Connection, oid: int) -> ShiftEnd | None:
    row = conn.execute(
        select(organisations.c.shift_end, organisations.c.shift_days).where(
            organisations.c.id == oid
        )
    ).first()
    if row is None or row.shift_end is None:
        return None
    return parse_shift_end(row.shift_end, row.shift_days)


def replan_shift(conn: Connection, oid: int, after_ms: int, zone: ZoneInfo) -> int | None:
    """Replace the organisation's shift deadline by its next occurrence after ``after_ms``
    (in the caller's transaction); when it is, or None without a shift end. The
    organisation's row is locked first (on PostgreSQL), so that two re-plans (a setting, a
    time zone, the runner after acting) follow one another and leave one deadline."""
    conn.execute(select(organisations.c.id).where(organisations.c.id == oid).with_for_update())
    conn.execute(delete(deadlines).where(deadlines.c.org_id == oid, deadlines.c.kind == SHIFT))
    shift = shift_of(conn, oid)
    if shift is None:
        return None
    due = next_shift_end(shift, after_ms, zone)
    conn.execute(
        insert(deadlines).values(
            org_id=oid, agent_id=None, kind=SHIFT, status=None, version=None, due_ms=due
        )
    )
    return due
