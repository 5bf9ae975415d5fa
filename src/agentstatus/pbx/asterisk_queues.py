"""The callers in Asterisk's queues (issue 24), from app_queue's own events and
``QueueStatus``.

app_queue says a caller joined (``QueueCallerJoin``) and left (``QueueCallerLeave``: answered,
timed out or gone); a caller who hangs up while waiting is ``QueueCallerAbandon`` first (its
``HoldTime`` the seconds it waited), and an answered one is ``AgentConnect`` *after* its
leave (``HoldTime`` again, and the member's ``Interface``). ``QueueStatus`` lists the callers
waiting now as ``QueueEntry`` items (``Wait``: seconds since they joined), read on every
(re)connect.

Every caller is its channel's ``Uniqueid``; an event without one, or of a queue not
configured, is ignored. A ``HoldTime`` or ``Wait`` that is not a number of seconds (or an
absurd one) is not believed: the service then takes the wait from when the caller joined.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from agentstatus.domain.queues import (
    MAX_CALL_ID,
    CallerChange,
    CallerEvent,
    QueueCaller,
    WaitingNow,
    clean_phone,
)

CHANGES = {
    "QueueCallerJoin": CallerChange.JOINED,
    "QueueCallerLeave": CallerChange.LEFT,
    "QueueCallerAbandon": CallerChange.ABANDONED,
    "AgentConnect": CallerChange.ANSWERED,
}
"""app_queue's events of a caller, and what each means."""
QUEUE_EVENTS = frozenset(CHANGES)
MAX_WAIT_SECONDS = 7 * 24 * 3600
"""A longer wait than this is a phone system's garbage, not a caller's patience."""

Message = dict[str, str]


def seconds_ms(text: str) -> int | None:
    """Whole seconds (``HoldTime``, ``Wait``) in ms; None when not believable."""
    text = text.strip()
    if not text.isdigit() or len(text) > 9 or int(text) > MAX_WAIT_SECONDS:
        return None
    return int(text) * 1000


def _caller(queue: str, m: Message) -> QueueCaller | None:
    call_id = m.get("Uniqueid", "").strip()
    if not call_id or len(call_id) > MAX_CALL_ID:
        return None
    # QueueEntry of Asterisk 1.x named the number CallerID.
    return QueueCaller(queue, call_id, clean_phone(m.get("CallerIDNum", m.get("CallerID", ""))))


def caller_event(m: Message, queues: Collection[str], at_ms: int) -> CallerEvent | None:
    """One of app_queue's caller events as a change of a caller in a configured queue."""
    change = CHANGES.get(m.get("Event", ""))
    queue = m.get("Queue", "")
    if change is None or queue not in queues:
        return None
    caller = _caller(queue, m)
    if caller is None:
        return None
    if change is CallerChange.JOINED or change is CallerChange.LEFT:
        return CallerEvent(caller, change, at_ms)
    wait_ms = seconds_ms(m.get("HoldTime", ""))
    member = (m.get("Interface") or m.get("Member", "")) if change is CallerChange.ANSWERED else ""
    return CallerEvent(caller, change, at_ms, wait_ms=wait_ms, member=member)


def waiting_now(queue: str, items: Iterable[Message], at_ms: int) -> WaitingNow:
    """The ``QueueEntry`` items of a ``QueueStatus`` answer for ``queue``: every caller
    waiting there, with when it joined (``Wait`` seconds ago; now when not told)."""
    callers: dict[str, tuple[QueueCaller, int]] = {}
    for item in items:
        if item.get("Event") != "QueueEntry" or item.get("Queue") != queue:
            continue
        caller = _caller(queue, item)
        if caller is None:
            continue
        wait = seconds_ms(item.get("Wait", ""))
        callers[caller.call_id] = (caller, at_ms - (wait or 0))
    return WaitingNow(queue, tuple(callers.values()), at_ms)
