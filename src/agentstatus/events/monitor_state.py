"""One organisation's state as Voicenter's real-time monitor shows it, kept beside its event
feed (``events.monitor``) while it has monitor sockets, and the messages each history event
makes of it: made once per event for every socket, each tagged with the extension it is
about (none: a queue's, for every socket).

Loaded in one consistent read (``storage.commit_order.consistent_read``) with the id of the
last event it reflects; the feed's events after that id are applied in order. Names are
read again when an event names an extension, agent or queue made after the load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson

from agentstatus.domain.calls import Call, Direction
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.event_types import (
    CALL_ANSWERED,
    CALL_ENDED,
    CALL_EVENTS,
    CALL_HELD,
    CALL_RESUMED,
    CALL_STARTED,
    CHANGE_KINDS,
    QUEUE_ABANDONED,
    QUEUE_ANSWERED,
    QUEUE_EVENTS,
    QUEUE_JOINED,
)
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.queues import QueueSettings, WaitingCaller
from agentstatus.events.monitor_session import MonitorMessage
from agentstatus.service.phone_calls import calls_by_extension
from agentstatus.service.timezones import timezone_of
from agentstatus.storage import monitor_reads, queue_callers
from agentstatus.storage.commit_order import CommitFence, consistent_read
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine
from agentstatus.wire import monitor_events as wire
from agentstatus.wire.monitor_events import (
    MonitorCall,
    MonitorExtension,
    MonitorQueue,
    MonitorQueueCaller,
    ServerTime,
)

_CALL_REASONS = {
    CALL_STARTED: wire.NEWCALL,
    CALL_ANSWERED: wire.ANSWER,
    CALL_HELD: wire.HOLD,
    CALL_RESUMED: wire.UNHOLD,
    CALL_ENDED: wire.HANGUP,
}
# A user id longer than this is not shown as a number (JSON readers lose precision past
# 2**53; the agent's numeric id stands in).
_MAX_NUMERIC_USER_ID = 15


@dataclass(frozen=True, slots=True)
class Tagged:
    """A message and the extension it is about (its numeric id; None: every socket's)."""

    message: MonitorMessage
    extension_id: int | None


@dataclass(frozen=True, slots=True)
class Names:
    """The organisation's extensions, agents and queues, as last read."""

    extensions: dict[str, monitor_reads.ExtensionRow]
    """By SIP name."""
    agents: dict[str, monitor_reads.AgentRow]
    """By user id."""
    queues: dict[str, int]
    """Each queue's id, by name."""


def read_names(conn: Connection, oid: int) -> Names:
    return Names(
        {e.sip: e for e in monitor_reads.extension_rows(conn, oid)},
        {a.user_id: a for a in monitor_reads.agent_rows(conn, oid)},
        {q.name: q.id for q in queue_callers.settings_of(conn, oid)},
    )


def names_now(engine: Engine, oid: int) -> Names:
    with reading(engine) as conn:
        return read_names(conn, oid)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the state starts from, read together at ``cursor``."""

    cursor: int
    zone: ZoneInfo
    names: Names
    held: list[monitor_reads.PresenceRow]
    calls: dict[str, list[Call]]
    queues: list[QueueSettings]
    waiting: list[WaitingCaller]


def load(engine: Engine, fence: CommitFence, oid: int) -> Loaded:
    """The organisation's monitor state and the id of the last event it reflects (raises
    TimeoutError as ``consistent_read`` does)."""
    with consistent_read(engine, fence, oid) as (conn, cursor):
        return Loaded(
            cursor,
            timezone_of(conn, oid),
            read_names(conn, oid),
            monitor_reads.held_rows(conn, oid),
            calls_by_extension(conn, oid),
            queue_callers.settings_of(conn, oid),
            queue_callers.waiting_of(conn, oid),
        )


def _seconds(iso: object) -> int | None:
    if not isinstance(iso, str):
        return None
    return int(datetime.fromisoformat(iso).timestamp())


def _call_of(call: Call) -> MonitorCall:
    return MonitorCall(
        call.id,
        call.direction is Direction.IN,
        call.state.value,
        call.caller_name,
        call.caller_number,
        call.dialled,
        call.started_ms // 1000,
        None if call.answered_ms is None else call.answered_ms // 1000,
    )


def _call_from_event(shaped: dict[str, object]) -> MonitorCall:
    """A call from its event's ``call`` JSON (``domain.calls.Call.as_json``)."""
    return MonitorCall(
        str(shaped.get("id", "")),
        shaped.get("direction") == Direction.IN.value,
        str(shaped.get("state", "")),
        str(shaped.get("caller_name", "")),
        str(shaped.get("caller_number", "")),
        str(shaped.get("dialled", "")),
        _seconds(shaped.get("started")) or 0,
        _seconds(shaped.get("answered")),
    )


@dataclass(slots=True)
class _Seat:
    """One extension's changing part."""

    holder: str | None = None
    status: int = LOGOUT
    updated_ms: int = 0
    agent_name: str = ""
    calls: dict[str, MonitorCall] = field(default_factory=dict)
    last_call_s: int = 0
    last_answered_s: int = 0
    last_hangup_s: int = 0


def server_time(zone: ZoneInfo, now: float | None = None) -> ServerTime:
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    offset = moment.astimezone(zone).utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds()) // 60
    return ServerTime(int(moment.timestamp()), minutes)


def message(event: str, payload: object) -> MonitorMessage:
    return MonitorMessage(event, orjson.dumps(payload))


class MonitorState:
    """The organisation's extensions, agents, live calls and queue callers, as of
    ``cursor``."""

    def __init__(self, org_id: int, loaded: Loaded) -> None:
        self.org_id = org_id
        self.cursor = loaded.cursor
        self.zone = loaded.zone
        self.names = loaded.names
        self.version = 0
        """Incremented by every change (a cache key for the shared status message)."""
        self._seats: dict[str, _Seat] = {sip: _Seat() for sip in self.names.extensions}
        self._where: dict[str, str] = {}
        for row in loaded.held:
            seat = self._seat(row.sip)
            seat.holder, seat.status, seat.updated_ms = row.user_id, row.status, row.since_ms
            seat.agent_name = self._agent_name(row.user_id)
            self._where[row.user_id] = row.sip
        for sip, calls in loaded.calls.items():
            self._seat(sip).calls = {c.id: _call_of(c) for c in calls}
        self._queues: dict[str, dict[str, MonitorQueueCaller]] = {q.name: {} for q in loaded.queues}
        for w in loaded.waiting:
            self._queues.setdefault(w.caller.queue, {})[w.caller.call_id] = MonitorQueueCaller(
                w.caller.call_id, w.caller.phone, w.joined_ms // 1000
            )

    def _seat(self, sip: str) -> _Seat:
        return self._seats.setdefault(sip, _Seat())

    def _agent_name(self, user_id: str) -> str:
        agent = self.names.agents.get(user_id)
        return "" if agent is None else agent.name

    def renamed(self, names: Names) -> None:
        """Names read again (an event named something made after the load)."""
        self.names = names
        self.version += 1
        for sip in names.extensions:
            self._seat(sip)
        for queue in names.queues:
            self._queues.setdefault(queue, {})

    # --- what the events name -------------------------------------------------------

    def knows(self, event: HistoryEvent) -> bool:
        """Whether every extension, agent and queue ``event`` names is in ``names``."""
        kind, names = event.kind, self.names
        if kind in CHANGE_KINDS:
            return event.user_id in names.agents and all(
                sip is None or sip in names.extensions
                for sip in (event.prev_extension, event.new_extension)
            )
        if kind in CALL_EVENTS:
            shaped = orjson.loads(event.call or "{}")
            return str(shaped.get("extension", "")) in names.extensions
        if kind in QUEUE_EVENTS:
            detail = orjson.loads(event.detail or "{}")
            return str(detail.get("queue", "")) in names.queues
        return True

    # --- shapes ---------------------------------------------------------------------

    def representative(self, user_id: str | None) -> int:
        """The agent as ``onlineUserID`` shows it: its user id when all digits, else its
        numeric id; 0 for nobody."""
        if user_id is None:
            return 0
        if user_id.isascii() and user_id.isdigit() and len(user_id) <= _MAX_NUMERIC_USER_ID:
            return int(user_id)
        agent = self.names.agents.get(user_id)
        return 0 if agent is None else agent.id

    def extension(self, sip: str) -> MonitorExtension | None:
        row = self.names.extensions.get(sip)
        if row is None:
            return None
        seat = self._seat(sip)
        return MonitorExtension(
            row.id,
            row.sip,
            row.name,
            self.org_id,
            self.representative(seat.holder),
            seat.agent_name,
            seat.status,
            seat.updated_ms,
            tuple(seat.calls.values()),
            seat.last_call_s,
            seat.last_answered_s,
            seat.last_hangup_s,
        )

    def extension_ids(self) -> dict[str, int]:
        """Every extension's numeric id, by SIP name."""
        return {sip: row.id for sip, row in self.names.extensions.items()}

    def extensions_json(
        self, now: ServerTime, only: frozenset[int] | None = None
    ) -> list[dict[str, object]]:
        """The extension objects of ``AllExtensionsStatus`` (those of ``only``), SIP order,
        their epochs on the organisation's clock of ``now``."""
        shaped = []
        for sip in sorted(self.names.extensions):
            if only is not None and self.names.extensions[sip].id not in only:
                continue
            extension = self.extension(sip)
            if extension is not None:
                shaped.append(wire.extension_json(extension, shift_s=now.shift_s))
        return shaped

    def queues(self) -> list[MonitorQueue]:
        return [self._queue(name) for name in sorted(self._queues) if name in self.names.queues]

    def _queue(self, name: str) -> MonitorQueue:
        waiting = sorted(self._queues.get(name, {}).values(), key=lambda c: c.joined_s)
        return MonitorQueue(self.names.queues.get(name, 0), name, self.org_id, tuple(waiting))

    def now(self) -> ServerTime:
        return server_time(self.zone)

    # --- events -----------------------------------------------------------------------

    def apply(self, event: HistoryEvent, now: ServerTime) -> list[Tagged]:
        """Apply one event after ``cursor`` (one at or below it is skipped): the messages
        it makes."""
        if event.id <= self.cursor:
            return []
        self.cursor = event.id
        kind = event.kind
        if kind in CHANGE_KINDS:
            made = self._changed(event, now)
        elif kind in CALL_EVENTS:
            made = self._call(event, now)
        elif kind in QUEUE_EVENTS:
            made = self._queued(event, now)
        else:
            return []
        self.version += 1
        return made

    def repeated(self, user_id: str, at_ms: int, now: ServerTime) -> list[Tagged]:
        """An identical status set again (SPEC 3.2: nothing recorded): announced again,
        as Voicenter does, when the agent holds an extension."""
        sip = self._where.get(user_id)
        if sip is None:
            return []
        return self._status_update(sip, now)

    def _status_update(self, sip: str, now: ServerTime) -> list[Tagged]:
        extension = self.extension(sip)
        if extension is None:
            return []
        payload = wire.extension_event(extension, wire.USER_STATUS_UPDATE, now)
        return [Tagged(message(wire.EXTENSION_EVENT, payload), extension.id)]

    def _changed(self, event: HistoryEvent, now: ServerTime) -> list[Tagged]:
        """A status change: the extension left (a logout, a move) is emptied (its calls
        too), the one taken (or kept) holds the agent in its new status; each is announced.
        A change at the same extension keeps its calls."""
        made: list[Tagged] = []
        user, prev, new = event.user_id, event.prev_extension, event.new_extension
        if prev is not None and prev != new:
            seat = self._seat(prev)
            if seat.holder == user:
                seat.holder, seat.status, seat.updated_ms = None, LOGOUT, event.at_ms
                # The history follows an extension's calls only while an agent is at it:
                # shown on, their ends would never come.
                seat.calls.clear()
                made += self._status_update(prev, now)
            if self._where.get(user) == prev:
                del self._where[user]
        if new is not None:
            seat = self._seat(new)
            seat.holder, seat.status, seat.updated_ms = user, event.new_status, event.at_ms
            seat.agent_name = self._agent_name(user)
            self._where[user] = new
            made += self._status_update(new, now)
        return made

    def _call(self, event: HistoryEvent, now: ServerTime) -> list[Tagged]:
        shaped = orjson.loads(event.call or "{}")
        sip = str(shaped.get("extension", ""))
        call = _call_from_event(shaped)
        seat = self._seat(sip)
        at_s = event.at_ms // 1000
        seat.last_call_s = at_s
        if event.kind == CALL_ENDED:
            seat.calls.pop(call.id, None)
            seat.last_hangup_s = at_s
        else:
            seat.calls[call.id] = call
            if event.kind == CALL_ANSWERED:
                seat.last_answered_s = at_s
        extension = self.extension(sip)
        if extension is None:
            return []
        reason = _CALL_REASONS[event.kind]
        payload = wire.extension_event(extension, reason, now, call=call, telephony_s=at_s)
        return [Tagged(message(wire.EXTENSION_EVENT, payload), extension.id)]

    def _queued(self, event: HistoryEvent, now: ServerTime) -> list[Tagged]:
        """A queue's caller: joined → ``JOIN``; answered → ``EXIT`` naming the agent
        (when it was still waiting: FreeSWITCH answers before the caller leaves) then
        ``ANSWER``; abandoned → ``ABANDONED``; left → ``EXIT``."""
        detail = orjson.loads(event.detail or "{}")
        name = str(detail.get("queue", ""))
        call_id = str(detail.get("call_id", ""))
        waiting = self._queues.setdefault(name, {})
        at_s = event.at_ms // 1000
        if event.kind == QUEUE_JOINED:
            joined = detail.get("joined_ms")
            joined_s = int(joined) // 1000 if isinstance(joined, int) else at_s
            phone = str(detail.get("phone", ""))
            waiting[call_id] = MonitorQueueCaller(call_id, phone, joined_s)
            reasons: list[tuple[str, str | None]] = [(wire.JOIN, None)]
        else:
            was_waiting = waiting.pop(call_id, None) is not None
            if event.kind == QUEUE_ANSWERED:
                agent = self._agent_name(event.user_id) or event.user_id
                reasons = [(wire.EXIT, agent)] if was_waiting else []
                reasons.append((wire.ANSWER, None))
            elif event.kind == QUEUE_ABANDONED:
                reasons = [(wire.ABANDONED, None)]
            else:
                reasons = [(wire.EXIT, None)]
        queue = self._queue(name)
        return [
            Tagged(
                message(
                    wire.QUEUE_EVENT,
                    wire.queue_event(queue, reason, call_id, now, at_s, answered_by),
                ),
                None,
            )
            for reason, answered_by in reasons
        ]
