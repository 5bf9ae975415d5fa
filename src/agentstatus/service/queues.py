"""Callers in the phone system's queues (issue 24): what the link hears, written to the
event log and the callers waiting now (``storage.queue_callers``).

The read side (callers waiting, a queue's day, GetQueuesCallers) builds on the same
tables; a queue is known from the first caller heard in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentstatus.domain.queues import (
    CallerEvent,
    DayFigures,
    QueueNow,
    QueueSettings,
    WaitingNow,
)
from agentstatus.service.organisations import org_id
from agentstatus.service.timezones import timezone_of
from agentstatus.storage import queue_callers
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


def record(engine: Engine, oid: int, heard: Sequence[CallerEvent | WaitingNow]) -> int:
    """Write what the phone system said of its queues' callers, in order, in one
    transaction; how many events were written (0: nothing changed, no wake-up due)."""
    if not heard:
        return 0
    written = 0
    with engine.begin() as conn:
        zone = timezone_of(conn, oid)
        names = [h.queue if isinstance(h, WaitingNow) else h.caller.queue for h in heard]
        queue_callers.ensure_queues(conn, oid, names)
        for item in heard:
            if isinstance(item, WaitingNow):
                written += len(queue_callers.replace_waiting(conn, oid, item, zone))
            elif queue_callers.record_event(conn, oid, item, zone) is not None:
                written += 1
    return written


def queues_now(engine: Engine, org: str, now_ms: int, queue: str | None = None) -> list[QueueNow]:
    """Every queue heard of (or only ``queue``), by name: its callers waiting and its
    figures of today in the organisation's timezone."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        zone = timezone_of(conn, oid)
        day = datetime.fromtimestamp(now_ms / 1000, zone).date().isoformat()
        known = queue_callers.settings_of(conn, oid)
        waiting = queue_callers.waiting_of(conn, oid)
        days = queue_callers.days_of(conn, oid, day)
    chosen: list[QueueSettings] = [s for s in known if queue is None or s.name == queue]
    return [
        QueueNow(
            s,
            tuple(w for w in waiting if w.caller.queue == s.name),
            days.get(s.name, DayFigures()),
        )
        for s in chosen
    ]
