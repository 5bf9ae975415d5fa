"""Callers in the phone system's queues: the ``queue.caller_*`` events of the log, the
callers waiting now (``queue_callers``) and each queue's settings (``queue_settings``).

The waiting callers and the events are written together, in the caller's transaction, so
the two never disagree: a caller is waiting from its ``queue.caller_joined`` until the event
that ends its wait (answered, abandoned, left). A change that changes nothing (a second join,
a leave of a caller no longer waiting: Asterisk's leave before its ``AgentConnect``,
FreeSWITCH's ``member-queue-end`` at the end of an answered call) writes no event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import queue_kind
from agentstatus.domain.queues import (
    DEFAULT_SERVICE_LEVEL_SECONDS,
    CallerChange,
    CallerEvent,
    DayFigures,
    QueueCaller,
    QueueSettings,
    WaitingCaller,
    WaitingNow,
)
from agentstatus.storage.batches import insert_new
from agentstatus.storage.event_log import NewEvent, append_event
from agentstatus.storage.schema import (
    agents,
    extensions,
    presence,
    queue_callers,
    queue_days,
    queue_settings,
)

_PBX = Source.PBX.value


def ensure_queues(conn: Connection, oid: int, names: Sequence[str]) -> None:
    """A settings row, with the defaults, for each queue not yet heard of."""
    known = set(
        conn.execute(
            select(queue_settings.c.name).where(
                queue_settings.c.org_id == oid, queue_settings.c.name.in_(names)
            )
        ).scalars()
    )
    new = [
        {
            "org_id": oid,
            "name": name,
            "service_level_seconds": DEFAULT_SERVICE_LEVEL_SECONDS,
            "weight": 0,
        }
        for name in dict.fromkeys(names)
        if name not in known
    ]
    if new:
        insert_new(
            conn,
            queue_settings,
            new,
            (queue_settings.c.org_id, queue_settings.c.name),
            (queue_settings.c.id,),
        )


def _joined_ms(conn: Connection, oid: int, caller: QueueCaller) -> int | None:
    return conn.execute(
        select(queue_callers.c.joined_ms).where(
            queue_callers.c.org_id == oid,
            queue_callers.c.queue == caller.queue,
            queue_callers.c.call_id == caller.call_id,
        )
    ).scalar_one_or_none()


def _stop_waiting(conn: Connection, oid: int, caller: QueueCaller) -> None:
    conn.execute(
        delete(queue_callers).where(
            queue_callers.c.org_id == oid,
            queue_callers.c.queue == caller.queue,
            queue_callers.c.call_id == caller.call_id,
        )
    )


def _agent(conn: Connection, oid: int, user_id: str) -> tuple[int, str | None, int] | None:
    """(agent id, extension, status) of the agent who answered."""
    r = conn.execute(
        select(agents.c.id, extensions.c.sip, presence.c.status)
        .select_from(
            agents.outerjoin(presence, presence.c.agent_id == agents.c.id).outerjoin(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(agents.c.org_id == oid, agents.c.user_id == user_id)
    ).first()
    if r is None:
        return None
    return int(r.id), r.sip, LOGOUT if r.status is None else int(r.status)


def _append(
    conn: Connection,
    oid: int,
    event: CallerEvent,
    joined_ms: int | None,
    wait_ms: int | None,
    user_id: str = "",
) -> int:
    detail: dict[str, object] = {
        "queue": event.caller.queue,
        "call_id": event.caller.call_id,
        "phone": event.caller.phone,
        "joined_ms": joined_ms,
    }
    if event.change is not CallerChange.JOINED:
        detail["wait_ms"] = wait_ms
    found = _agent(conn, oid, user_id) if user_id else None
    agent_id, extension, status = found if found is not None else (None, None, LOGOUT)
    return append_event(
        conn,
        NewEvent(
            org_id=oid,
            agent_id=agent_id,
            user_id=user_id if found is not None else "",
            prev_extension=extension,
            new_extension=extension,
            prev_status=status,
            new_status=status,
            at_ms=event.at_ms,
            source=_PBX,
            kind=queue_kind(event.change.value),
            detail=orjson.dumps(detail).decode(),
        ),
    )


def record_event(conn: Connection, oid: int, event: CallerEvent, zone: ZoneInfo) -> int | None:
    """Apply one caller's change to the callers waiting and the queue's day (in ``zone``,
    the organisation's) and append its event; the history id, or None when it changed
    nothing."""
    caller = event.caller
    known = _joined_ms(conn, oid, caller)
    if event.change is CallerChange.JOINED:
        if known is not None:
            return None
        joined = event.joined_ms if event.joined_ms is not None else event.at_ms
        conn.execute(
            insert(queue_callers).values(
                org_id=oid,
                queue=caller.queue,
                call_id=caller.call_id,
                phone=caller.phone,
                joined_ms=joined,
            )
        )
        _count(conn, oid, event, zone, None)
        return _append(conn, oid, event, joined, None)
    if known is None and event.change is CallerChange.LEFT:
        return None  # no longer waiting: answered or abandoned already (or never seen)
    if known is not None:
        _stop_waiting(conn, oid, caller)
    joined_ms = event.joined_ms if event.joined_ms is not None else known
    wait_ms = event.wait_ms
    if wait_ms is None and joined_ms is not None:
        wait_ms = max(0, event.at_ms - joined_ms)
    elif joined_ms is None and wait_ms is not None:
        joined_ms = event.at_ms - wait_ms  # Asterisk answers after the leave, with HoldTime
    _count(conn, oid, event, zone, wait_ms)
    return _append(conn, oid, event, joined_ms, wait_ms, event.user_id)


def _count(
    conn: Connection, oid: int, event: CallerEvent, zone: ZoneInfo, wait_ms: int | None
) -> None:
    """The event in its queue's day: offered, answered (within the service level, its
    wait), abandoned; a caller who left unanswered counts only as offered."""
    if event.change is CallerChange.LEFT:
        return
    queue = event.caller.queue
    day = datetime.fromtimestamp(event.at_ms / 1000, zone).date().isoformat()
    key = (queue_days.c.org_id == oid, queue_days.c.queue == queue, queue_days.c.day == day)
    zero = {"offered": 0, "answered": 0, "abandoned": 0, "answered_within": 0}
    insert_new(
        conn,
        queue_days,
        [{"org_id": oid, "queue": queue, "day": day, **zero, "answered_wait_ms": 0}],
        (queue_days.c.org_id, queue_days.c.queue, queue_days.c.day),
        (queue_days.c.org_id,),
    )
    c = queue_days.c
    if event.change is CallerChange.JOINED:
        values: dict[str, object] = {"offered": c.offered + 1}
    elif event.change is CallerChange.ABANDONED:
        values = {"abandoned": c.abandoned + 1}
    else:
        wait = wait_ms or 0
        threshold = conn.execute(
            select(queue_settings.c.service_level_seconds).where(
                queue_settings.c.org_id == oid, queue_settings.c.name == queue
            )
        ).scalar_one_or_none()
        limit = DEFAULT_SERVICE_LEVEL_SECONDS if threshold is None else int(threshold)
        values = {
            "answered": c.answered + 1,
            "answered_within": c.answered_within + (1 if wait <= limit * 1000 else 0),
            "answered_wait_ms": c.answered_wait_ms + wait,
        }
    conn.execute(update(queue_days).where(*key).values(**values))


def replace_waiting(conn: Connection, oid: int, now: WaitingNow, zone: ZoneInfo) -> list[int]:
    """The queue's callers as read on (re)connecting: those no longer there left (unseen),
    those new joined meanwhile. The history ids written."""
    rows = conn.execute(
        select(queue_callers.c.call_id, queue_callers.c.phone).where(
            queue_callers.c.org_id == oid, queue_callers.c.queue == now.queue
        )
    ).all()
    had = {r.call_id: QueueCaller(now.queue, r.call_id, r.phone) for r in rows}
    there = {caller.call_id: (caller, joined) for caller, joined in now.callers}
    written: list[int] = []
    for call_id, caller in had.items():
        if call_id not in there:
            gone = record_event(conn, oid, CallerEvent(caller, CallerChange.LEFT, now.at_ms), zone)
            if gone is not None:
                written.append(gone)
    for call_id, (caller, joined) in there.items():
        if call_id not in had:
            joining = CallerEvent(caller, CallerChange.JOINED, now.at_ms, joined_ms=joined)
            came = record_event(conn, oid, joining, zone)
            if came is not None:
                written.append(came)
    return written


def settings_of(conn: Connection, oid: int) -> list[QueueSettings]:
    """The organisation's queues heard of, by name."""
    rows = conn.execute(
        select(queue_settings).where(queue_settings.c.org_id == oid).order_by(queue_settings.c.name)
    ).all()
    return [
        QueueSettings(int(r.id), r.name, int(r.service_level_seconds), int(r.weight)) for r in rows
    ]


def waiting_of(conn: Connection, oid: int) -> list[WaitingCaller]:
    """Every caller waiting now, longest first."""
    rows = conn.execute(
        select(queue_callers)
        .where(queue_callers.c.org_id == oid)
        .order_by(queue_callers.c.joined_ms, queue_callers.c.call_id)
    ).all()
    return [WaitingCaller(QueueCaller(r.queue, r.call_id, r.phone), int(r.joined_ms)) for r in rows]


def days_of(conn: Connection, oid: int, day: str) -> dict[str, DayFigures]:
    """Each queue's figures of ``day`` (ISO date), by queue."""
    rows = conn.execute(
        select(queue_days).where(queue_days.c.org_id == oid, queue_days.c.day == day)
    ).all()
    return {
        r.queue: DayFigures(
            int(r.offered),
            int(r.answered),
            int(r.abandoned),
            int(r.answered_within),
            int(r.answered_wait_ms),
        )
        for r in rows
    }


def update_settings(
    conn: Connection,
    oid: int,
    name: str,
    service_level_seconds: int | None,
    weight: int | None,
) -> QueueSettings | None:
    """Set a known queue's threshold and/or weight (None: unchanged); its settings after,
    or None when no queue of that name was heard of."""
    key = (queue_settings.c.org_id == oid, queue_settings.c.name == name)
    values: dict[str, int] = {}
    if service_level_seconds is not None:
        values["service_level_seconds"] = service_level_seconds
    if weight is not None:
        values["weight"] = weight
    if values:
        conn.execute(update(queue_settings).where(*key).values(**values))
    r = conn.execute(select(queue_settings).where(*key)).first()
    if r is None:
        return None
    return QueueSettings(int(r.id), r.name, int(r.service_level_seconds), int(r.weight))
