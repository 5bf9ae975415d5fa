"""Callers in the phone system's queues (issue 24): what the link hears, written to the
event log and the callers waiting now (``storage.queue_callers``).

The read side (callers waiting, a queue's day, GetQueuesCallers, the native API's
``/queues``) builds on the same tables; a queue is known from the first caller heard in it,
and only then may its service level and weight be set (``set_queue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentstatus.domain.integers import INT32_MAX
from agentstatus.domain.queues import (
    MAX_SERVICE_LEVEL_SECONDS,
    CallerEvent,
    DayFigures,
    QueueNow,
    QueueSettings,
    WaitingNow,
)
from agentstatus.service.errors import ErrorCode, InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.timezones import timezone_of
from agentstatus.storage import queue_callers
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine


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
        return queues_of(conn, org_id(conn, org), now_ms, queue)


def queues_of(conn: Connection, oid: int, now_ms: int, queue: str | None = None) -> list[QueueNow]:
    """:func:`queues_now` in the caller's read (GetQueuesCallers reads it with the Code's
    check)."""
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


def set_queue(
    engine: Engine,
    org: str,
    name: str,
    service_level_seconds: int | None = None,
    weight: int | None = None,
) -> QueueSettings:
    """Change a queue's service-level threshold and/or weight (None: as it is).

    Only a queue the phone system has told of (a caller heard in it): queues are the phone
    system's, and a mistyped name would otherwise become a queue of its own, with an ID, on
    the wall and in GetQueuesCallers. The threshold counts from the next answered caller;
    the day's answers counted before keep the threshold of their time.
    """
    if service_level_seconds is not None and not (
        1 <= service_level_seconds <= MAX_SERVICE_LEVEL_SECONDS
    ):
        raise InvalidInput(
            f"the service level must be from 1 second to {MAX_SERVICE_LEVEL_SECONDS} seconds "
            f"(1h), not {service_level_seconds}"
        )
    if weight is not None and not 0 <= weight <= INT32_MAX:
        raise InvalidInput(f"the weight must be a whole number from 0 to {INT32_MAX}")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = queue_callers.update_settings(conn, oid, name, service_level_seconds, weight)
    if found is None:
        raise NotFound(
            f"no queue {name!r} in {org}: a queue is known from its first caller",
            code=ErrorCode.QUEUE_NOT_FOUND,
        )
    return found
