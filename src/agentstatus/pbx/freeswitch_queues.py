"""The callers in FreeSWITCH's queues (issue 24), from mod_callcenter's ``callcenter::info``
events and ``callcenter_config queue list members``.

mod_callcenter says a caller joined (``member-queue-start``), was answered by an agent
(``bridge-agent-start``: ``CC-Agent``, and ``CC-Agent-Answered-Time`` minus
``CC-Member-Joined-Time`` its wait) and left (``member-queue-end``). A caller who left
unanswered is ``CC-Cause: Cancel``: abandoned when the caller hung up or broke out
(``CC-Cancel-Reason`` ``BREAK_OUT``, or none), merely gone when the queue sent it on
(``TIMEOUT``, ``NO_AGENT_TIMEOUT``: the queue's limits, not the caller's patience, as
Asterisk's timeout is a leave without an abandon). ``CC-Cause: Terminated`` is the end of an
answered call: a leave of a caller no longer waiting, which changes nothing.

Every caller is its session (``CC-Member-Session-UUID``, the caller's channel); times are
whole epoch seconds. An empty header comes as ``_undef_`` (``switch_event_serialize``): a
caller without a number, or without a session, is read as such.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from agentstatus.domain.queues import (
    MAX_CALL_ID,
    CallerChange,
    CallerEvent,
    QueueCaller,
    WaitingNow,
    clean_phone,
)

QUEUE_ACTIONS = frozenset({"member-queue-start", "bridge-agent-start", "member-queue-end"})
SENT_ON = frozenset({"TIMEOUT", "NO_AGENT_TIMEOUT"})
"""``CC-Cancel-Reason``s of a caller the queue sent on: left, not abandoned."""
WAITING_STATES = frozenset({"Waiting", "Trying"})
"""``queue list members`` states of a caller not yet answered (mod_callcenter's
``MEMBER_STATE_CHART``; ``Answered`` and ``Abandoned`` rows stay listed for a while)."""
MAX_WAIT_SECONDS = 7 * 24 * 3600
UNDEFINED = "_undef_"
"""What the event socket sends for an empty header value."""


def _header(h: Mapping[str, str], key: str) -> str:
    value = h.get(key, "")
    return "" if value == UNDEFINED else value


def _epoch(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < len(text) <= 12 else None


def wait_ms(start: str, end: str) -> int | None:
    """Seconds from ``start`` to ``end`` (epoch seconds), in ms; None when not both known
    or not believable."""
    began, ended = _epoch(start), _epoch(end)
    if began is None or ended is None or not 0 <= ended - began <= MAX_WAIT_SECONDS:
        return None
    return (ended - began) * 1000


def _caller(queue: str, call_id: str, number: str) -> QueueCaller | None:
    call_id = call_id.strip()
    if not call_id or len(call_id) > MAX_CALL_ID:
        return None
    return QueueCaller(queue, call_id, clean_phone(number))


def caller_event(h: Mapping[str, str], queues: Collection[str], at_ms: int) -> CallerEvent | None:
    """A ``callcenter::info`` event as a change of a caller in a configured queue."""
    action, queue = h.get("CC-Action", ""), h.get("CC-Queue", "")
    if action not in QUEUE_ACTIONS or queue not in queues:
        return None
    caller = _caller(
        queue, _header(h, "CC-Member-Session-UUID"), _header(h, "CC-Member-CID-Number")
    )
    if caller is None:
        return None
    joined = _header(h, "CC-Member-Joined-Time")
    if action == "member-queue-start":
        return CallerEvent(caller, CallerChange.JOINED, at_ms)
    if action == "bridge-agent-start":
        waited = wait_ms(joined, _header(h, "CC-Agent-Answered-Time"))
        return CallerEvent(
            caller, CallerChange.ANSWERED, at_ms, wait_ms=waited, member=_header(h, "CC-Agent")
        )
    waited = wait_ms(joined, _header(h, "CC-Member-Leaving-Time"))
    abandoned = h.get("CC-Cause") == "Cancel" and h.get("CC-Cancel-Reason", "") not in SENT_ON
    change = CallerChange.ABANDONED if abandoned else CallerChange.LEFT
    return CallerEvent(caller, change, at_ms, wait_ms=waited if abandoned else None)


def waiting_now(queue: str, rows: Iterable[Mapping[str, str]], at_ms: int) -> WaitingNow:
    """The rows of ``callcenter_config queue list members <queue>``: the callers waiting
    (``Waiting`` or ``Trying``), with when they joined (``joined_epoch``)."""
    callers: dict[str, tuple[QueueCaller, int]] = {}
    for row in rows:
        if row.get("state") not in WAITING_STATES or row.get("queue", queue) != queue:
            continue
        caller = _caller(queue, row.get("session_uuid", ""), row.get("cid_number", ""))
        if caller is None:
            continue
        joined = _epoch(row.get("joined_epoch", ""))
        joined_ms = joined * 1000 if joined else at_ms
        callers[caller.call_id] = (caller, min(joined_ms, at_ms))
    return WaitingNow(queue, tuple(callers.values()), at_ms)
