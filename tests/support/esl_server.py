"""A loopback FreeSWITCH event socket (inbound mode) with mod_callcenter behind it, for tests.

It speaks the real protocol over TCP, following mod_event_socket.c and mod_callcenter.c
(FreeSWITCH 1.10): the ``auth/request`` greeting, ``command/reply`` answers with the module's
own ``Reply-Text`` strings, ``api/response`` frames whose ``Content-Length`` counts the body,
``text/event-plain`` frames whose headers are percent-encoded as ``switch_url_encode`` does,
and the disconnect notice. ``api callcenter_config`` splits its arguments the way
``switch_separate_string`` does (single quotes group words, backslash escapes, 8 fields at
most) and answers with the module's exact strings, ``\\n`` included.

The server runs its own asyncio loop in a daemon thread so synchronous tests can drive it;
every public method is thread-safe and returns copies. Each connection reads commands as they
arrive and answers them in order, so a client that pipelines is seen (``max_outstanding``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T")

# mod_callcenter.c: AGENT_STATUS_CHART, compared case-insensitively (cc_agent_str2status).
AGENT_STATUSES = ("Logged Out", "Available", "Available (On Demand)", "On Break")
AGENT_TYPES = ("Callback", "uuid-standby")

_AGENT_COLUMNS = (
    "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
    "reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|"
    "last_offered_call|last_status_change|no_answer_count|calls_answered|talk_time|ready_time|"
    "external_calls_count"
)
_TIER_COLUMNS = "queue|agent|state|level|position"
_MEMBER_COLUMNS = (
    "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
    "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
    "serving_system|state"
)

# mod_event_socket.c listener_run: the text sent before closing.
DISCONNECT_TEXT = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

# switch_utils.c switch_url_encode: these, control bytes and bytes above '~' become %XX.
_URL_UNSAFE = frozenset(b'\r\n "#%&+:;<=>?@[\\]^`{|}')

# switch_event.c EVENT_NAMES that a call-centre client may ask for; switch_name_event matches
# them case-insensitively. Other names are skipped, as FreeSWITCH skips names it does not know.
EVENT_NAMES = frozenset(
    {
        "CUSTOM",
        "CLONE",
        "CHANNEL_CREATE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_ANSWER",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HOLD",
        "CHANNEL_UNHOLD",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_OUTGOING",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_APPLICATION",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "CHANNEL_DATA",
        "API",
        "BACKGROUND_JOB",
        "HEARTBEAT",
        "PRESENCE_IN",
        "DTMF",
        "RE_SCHEDULE",
        "ALL",
    }
)

RECORDING = Path(__file__).parent / "recordings" / "freeswitch-esl.jsonl"
"""Lines of ``shared/pbx/freeswitch-esl-recording.jsonl`` (a real FreeSWITCH 1.11 with
mod_callcenter, ``events plain ALL``): every ``CUSTOM`` ``callcenter::info``, ``API`` and
``HEARTBEAT`` event, and the channel events of its first call; ``line`` is the line's
number in the full recording."""

_HOST = "127.0.0.1"
_PBX_IP = "10.0.0.5"
_PHONE_IP = "10.0.0.7"
_TRUNK_IP = "198.51.100.20"


@cache
def _recording() -> dict[int, dict[str, str]]:
    lines = (json.loads(text) for text in RECORDING.read_text().splitlines() if text)
    return {int(d.pop("line")): {k: str(v) for k, v in d.items()} for d in lines}


def recorded(line: int, changes: Mapping[str, str] | None = None) -> dict[str, str]:
    """The event a real FreeSWITCH sent at ``line`` of the recording, with some headers
    changed (an agent's name, a status); its header names, order and values otherwise."""
    event = dict(_recording()[line])
    for key, value in (changes or {}).items():
        event[key] = value
    return event


def recorded_lines(first: int, last: int) -> list[dict[str, str]]:
    """The recorded events from line ``first`` to ``last`` (inclusive), in order."""
    return [dict(e) for n, e in sorted(_recording().items()) if first <= n <= last]


def url_encode(value: str) -> str:
    """Percent-encode a header value exactly as FreeSWITCH does (per UTF-8 byte, upper hex)."""
    out = []
    for byte in value.encode():
        if byte < 0x20 or byte > 0x7E or byte in _URL_UNSAFE:
            out.append(f"%{byte:02X}")
        else:
            out.append(chr(byte))
    return "".join(out)


def separate_string(text: str, limit: int = 8) -> list[str]:
    """``switch_separate_string(data, ' ', argv, limit)``: blank-delimited fields where single
    quotes group words and a backslash escapes the next character; the last field keeps the
    rest of the line. Quotes and escapes are removed and fields trimmed afterwards, as
    ``cleanup_separated_string`` does."""
    starts: list[int] = []
    i, n, quoted = 0, len(text), False
    state = "start"
    while i < n and len(starts) <= limit:
        ch = text[i]
        if state == "start":
            if len(starts) == limit:
                break
            starts.append(i)
            state = "skip_initial"
            continue
        if state == "skip_initial":
            if ch == " ":
                i += 1
            else:
                state = "find"
            continue
        if state == "find":
            if ch == "\\":
                i += 1
            elif ch == "'":
                quoted = not quoted
            elif ch == " " and not quoted:
                state = "skip_end"
            i += 1
            continue
        # skip_end
        if ch == " ":
            i += 1
        else:
            state = "start"
    fields = []
    for k, start in enumerate(starts):
        end = n if k + 1 == len(starts) else starts[k + 1]
        fields.append(_cleanup(text[start:end]))
    return fields


def _cleanup(raw: str) -> str:
    escapes = {"n": "\n", "r": "\r", "t": "\t", "s": " "}
    out: list[str] = []
    chars = iter(raw)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(escapes.get(nxt, nxt))
        elif ch != "'":
            out.append(ch)
    return "".join(out).strip(" ")


@dataclass(frozen=True)
class Agent:
    name: str
    type: str = "Callback"
    contact: str = ""
    status: str = "Logged Out"


@dataclass(frozen=True)
class ReceivedCommand:
    line: str  # the command as sent
    at: float  # time.monotonic() when it was read
    session: int  # which connection (1, 2, ...)


@dataclass
class _AgentRow:
    agent: Agent
    state: str = "Waiting"
    uuid: str = ""
    last_status_change: int = 0


@dataclass
class _Tier:
    state: str = "Ready"
    level: int = 1
    position: int = 1


@dataclass
class _Session:
    id: int
    writer: asyncio.StreamWriter
    authed: bool = False
    all_events: bool = False
    events: set[str] = field(default_factory=set)
    subclasses: set[str] = field(default_factory=set)
    format: str = "plain"
    outstanding: int = 0


@dataclass
class _Leg:
    uuid: str
    direction: str  # FreeSWITCH's view: "inbound" is the leg that came in to the switch
    channel_name: str
    username: str
    cid_name: str
    cid_num: str
    destination: str
    callee_name: str
    callee_num: str
    network_addr: str
    context: str
    variables: dict[str, str]
    created_us: int
    answer_state: str = "ringing"
    answered_us: int = 0
    call_state: str = "RINGING"
    other: _Leg | None = None


class Call:
    """A call on the switch, independent of any client connection."""

    def __init__(self, server: EslServer, first: _Leg, second: _Leg, extension: _Leg) -> None:
        self._server = server
        self._first = first  # the originating leg: FreeSWITCH fires BRIDGE/UNBRIDGE on it
        self._second = second
        self._ext = extension
        self.extension_uuid: str = extension.uuid
        self._answered = False
        self._ended = False

    def answer(self) -> None:
        self._server._on_loop(self._answer)

    def hold(self) -> None:
        self._server._on_loop(lambda: self._hold("CHANNEL_HOLD", "HELD"))

    def unhold(self) -> None:
        self._server._on_loop(lambda: self._hold("CHANNEL_UNHOLD", "ACTIVE"))

    def hangup(self) -> None:
        self._server._on_loop(self._hangup)

    def _answer(self) -> None:
        if self._answered or self._ended:
            return
        self._answered = True
        answered = self._server._now_us()
        for leg in (self._first, self._second):
            leg.answer_state, leg.call_state = "answered", "ACTIVE"
            leg.answered_us = answered
        self._first.other, self._second.other = self._second, self._first
        srv = self._server
        srv._emit(srv._channel_event("CHANNEL_ANSWER", self._ext))
        bridge = srv._channel_event("CHANNEL_BRIDGE", self._first)
        bridge["Bridge-A-Unique-ID"] = self._first.uuid
        bridge["Bridge-B-Unique-ID"] = self._second.uuid
        srv._emit(bridge)

    def _hold(self, name: str, call_state: str) -> None:
        if not self._answered or self._ended:
            return
        self._ext.call_state = call_state
        self._server._emit(self._server._channel_event(name, self._ext))

    def _hangup(self) -> None:
        if self._ended:
            return
        self._ended = True
        srv = self._server
        if self._answered:
            unbridge = srv._channel_event("CHANNEL_UNBRIDGE", self._first)
            unbridge["Bridge-A-Unique-ID"] = self._first.uuid
            unbridge["Bridge-B-Unique-ID"] = self._second.uuid
            srv._emit(unbridge)
        # An unanswered call is cancelled by its originator: the called leg says so.
        causes = {
            self._first.uuid: "NORMAL_CLEARING",
            self._second.uuid: "NORMAL_CLEARING" if self._answered else "ORIGINATOR_CANCEL",
        }
        others = [leg for leg in (self._first, self._second) if leg is not self._ext]
        for leg in (self._ext, *others):
            leg.answer_state, leg.call_state = "hangup", "HANGUP"
            event = srv._channel_event("CHANNEL_HANGUP_COMPLETE", leg)
            event["Hangup-Cause"] = causes[leg.uuid]
            event["variable_hangup_cause"] = causes[leg.uuid]
            srv._emit(event)
        with srv._lock:
            for leg in (self._first, self._second):
                srv._legs.pop(leg.uuid, None)


class QueueOffer:
    """A caller in a mod_callcenter queue offered to one agent (``outbound_agent_thread_run``
    of mod_callcenter.c): the ``agent-offering`` event with the recorded headers, the leg
    to the agent's phone, and, when nobody answers, that leg's hangup then
    ``bridge-agent-fail`` with the headers mod_callcenter.c adds to it (CC-Queue, CC-Action,
    CC-Hangup-Cause, CC-Agent, CC-Agent-System, CC-Agent-Called-Time, CC-Agent-Aborted-Time,
    CC-Member-UUID, CC-Member-Session-UUID, CC-Member-CID-Name, CC-Member-CID-Number,
    CC-Member-Joined-Time; no recording has one, so they are modelled on the source). An
    offer of a :class:`QueueMember` may be answered (``bridge-agent-start``, as recorded)
    and then hung up (``bridge-agent-end``, ``member-queue-end`` ``Terminated``)."""

    def __init__(
        self,
        server: EslServer,
        queue: str,
        agent: str,
        caller_num: str,
        caller_name: str,
        extension: str,
        member: QueueMember | None = None,
    ) -> None:
        self._server = server
        self._queue = queue
        self._agent = agent
        self._caller = (caller_name, caller_num)
        self._member_uuid = member.member_uuid if member is not None else str(uuid.uuid4())
        self._session_uuid = member.session_uuid if member is not None else str(uuid.uuid4())
        self._queued = member
        self._called = int(time.time())
        self._joined = member.joined if member is not None else self._called
        self._answered = 0
        self._ended = False
        self._leg = server._leg(
            "outbound",
            f"sofia/internal/sip:{extension}@{_PHONE_IP}:5060",
            username=caller_num,
            cid=(caller_name, caller_num),
            destination=extension,
            callee=(extension, extension),
            addr=_PHONE_IP,
            context="default",
            variables={
                "cc_queue": queue,
                "cc_member_uuid": self._member_uuid,
                "cc_member_session_uuid": self._session_uuid,
                "cc_agent": agent,
                "cc_agent_type": "Callback",
                "cc_side": "agent",
            },
        )

    def _cc_event(self, action: str, function_line: str) -> dict[str, str]:
        srv = self._server
        event = srv._base_event("CUSTOM", "callcenter::info")
        event["Event-Calling-Function"] = "outbound_agent_thread_run"
        event["Event-Calling-Line-Number"] = function_line
        event |= {"CC-Queue": self._queue, "CC-Action": action}
        return event

    def _member(self) -> dict[str, str]:
        return {
            "CC-Member-UUID": self._member_uuid,
            "CC-Member-Session-UUID": self._session_uuid,
            "CC-Member-CID-Name": self._caller[0],
            "CC-Member-CID-Number": self._caller[1],
        }

    def _offer(self) -> None:
        srv = self._server
        event = self._cc_event("agent-offering", "1717")
        event |= {
            "CC-Agent": self._agent,
            "CC-Agent-Type": "Callback",
            "CC-Agent-System": "single_box",
            **self._member(),
        }
        srv._emit(event)
        with srv._lock:
            srv._legs[self._leg.uuid] = self._leg
        srv._emit(srv._channel_event("CHANNEL_CREATE", self._leg))
        srv._emit(srv._channel_event("CHANNEL_PROGRESS", self._leg))

    def fail(self, cause: str = "NO_ANSWER") -> None:
        """The agent's leg ends unanswered with ``cause`` (NO_ANSWER: the originate
        timeout; ORIGINATOR_CANCEL: another agent answered a ring-all call)."""
        self._server._on_loop(lambda: self._fail(cause))

    def _fail(self, cause: str) -> None:
        srv = self._server
        leg = self._leg
        leg.answer_state, leg.call_state = "hangup", "HANGUP"
        hangup = srv._channel_event("CHANNEL_HANGUP_COMPLETE", leg)
        hangup["Hangup-Cause"] = cause
        hangup["variable_hangup_cause"] = cause
        srv._emit(hangup)
        with srv._lock:
            srv._legs.pop(leg.uuid, None)
        event = self._cc_event("bridge-agent-fail", "2105")
        event |= {
            "CC-Hangup-Cause": cause,
            "CC-Agent": self._agent,
            "CC-Agent-System": "single_box",
            "CC-Agent-Called-Time": str(self._called),
            "CC-Agent-Aborted-Time": str(int(time.time())),
            **self._member(),
            "CC-Member-Joined-Time": str(self._joined),
        }
        srv._emit(event)
        if self._queued is not None:
            self._queued.offer = None
            self._queued.state = "Waiting"

    @property
    def answered_epoch(self) -> int:
        """When the agent answered, in whole seconds as mod_callcenter stamps it (0 before)."""
        return self._answered

    def answer(self) -> None:
        """The agent answers: its leg is answered, then ``bridge-agent-start`` with the
        agent leg's data and the recorded CC headers, and the queue's ``members-count``;
        the caller is Answered (it stays listed until the call ends)."""
        self._server._on_loop(self._answer)

    def _answer(self) -> None:
        srv, member = self._server, self._queued
        assert member is not None, "only a QueueMember's offer is answered"
        leg = self._leg
        self._answered = int(time.time())
        leg.answer_state, leg.call_state = "answered", "ACTIVE"
        leg.answered_us = srv._now_us()
        srv._emit(srv._channel_event("CHANNEL_ANSWER", leg))
        with srv._lock:
            member.state, member.bridge_epoch = "Answered", self._answered
        event = self._agent_event("bridge-agent-start", "2009")
        event |= {
            "CC-Agent": self._agent,
            "CC-Agent-System": "single_box",
            "CC-Agent-UUID": leg.uuid,
            "CC-Agent-Called-Time": str(self._called),
            "CC-Agent-Answered-Time": str(self._answered),
            "CC-Member-Joined-Time": str(self._joined),
            **self._member(),
        }
        srv._emit(event)
        srv._emit(member._count_event())

    def hangup(self) -> None:
        """The answered call ends: ``bridge-agent-end``, the agent leg's hangup, then
        ``member-queue-end`` with ``CC-Cause: Terminated`` (the caller is no longer listed)."""
        self._server._on_loop(self._hangup)

    def _hangup(self) -> None:
        srv, member = self._server, self._queued
        if self._ended or not self._answered or member is None:
            return
        self._ended = True
        now = str(int(time.time()))
        event = self._agent_event("bridge-agent-end", "2188")
        event |= {
            "CC-Hangup-Cause": "SUCCESS",
            "CC-Agent": self._agent,
            "CC-Agent-System": "single_box",
            "CC-Agent-UUID": self._leg.uuid,
            "CC-Agent-Bridged": "true",
            "CC-Agent-Called-Time": str(self._called),
            "CC-Agent-Answered-Time": str(self._answered),
            "CC-Member-Joined-Time": str(self._joined),
            "CC-Bridge-Terminated-Time": now,
            **self._member(),
        }
        srv._emit(event)
        self._leg.answer_state, self._leg.call_state = "hangup", "HANGUP"
        hangup = srv._channel_event("CHANNEL_HANGUP_COMPLETE", self._leg)
        hangup["Hangup-Cause"] = "NORMAL_CLEARING"
        srv._emit(hangup)
        with srv._lock:
            srv._legs.pop(self._leg.uuid, None)
        end = member._member_event("member-queue-end", "agent")
        end |= {
            "CC-Hangup-Cause": "SUCCESS",
            "CC-Cause": "Terminated",
            "CC-Agent": self._agent,
            "CC-Agent-System": "single_box",
            "CC-Agent-UUID": self._leg.uuid,
            "CC-Agent-Called-Time": str(self._called),
            "CC-Agent-Answered-Time": str(self._answered),
            "CC-Member-Leaving-Time": now,
            "CC-Member-Joined-Time": str(self._joined),
            **self._member(),
        }
        srv._emit(end)
        member._gone()

    def _agent_event(self, action: str, line: str) -> dict[str, str]:
        """A callcenter::info event carrying the agent leg's data, as bridge events do."""
        srv = self._server
        event = {"Event-Subclass": "callcenter::info", **srv._channel_event("CUSTOM", self._leg)}
        event["Event-Calling-File"] = "mod_callcenter.c"
        event["Event-Calling-Function"] = "outbound_agent_thread_run"
        event["Event-Calling-Line-Number"] = line
        event |= {"CC-Queue": self._queue, "CC-Action": action}
        return event


class QueueMember:
    """A caller waiting in a mod_callcenter queue (``callcenter_function``): its leg, then
    ``member-queue-start`` (the caller leg's data and the CC headers, as recorded) and
    ``members-count``; listed by ``callcenter_config queue list members`` (state Waiting,
    Trying while offered, Answered, Abandoned) until it leaves. ``abandon()``: the caller
    hangs up while waiting (``member-queue-end`` ``CC-Cause: Cancel``, ``CC-Cancel-Reason:
    BREAK_OUT``, modelled on mod_callcenter.c: no recording has one); ``time_out()``: the
    queue's ``max-wait-time`` sends it on (``TIMEOUT``)."""

    def __init__(
        self, server: EslServer, queue: str, caller_num: str, caller_name: str, waited: float
    ) -> None:
        self._server = server
        self.queue = queue
        self.caller = (caller_name, caller_num)
        self.member_uuid = str(uuid.uuid4())
        self.joined = int(time.time() - waited)
        self.state = "Waiting"
        self.bridge_epoch = 0
        self.abandoned_epoch = 0
        self.offer: QueueOffer | None = None
        self.leg = server._leg(
            "inbound",
            f"sofia/external/{caller_num or 'anonymous'}@{_TRUNK_IP}",
            username=caller_num,
            cid=(caller_name, caller_num),
            destination="5000",
            callee=("", ""),
            addr=_TRUNK_IP,
            context="public",
            variables={
                "cc_side": "member",
                "cc_member_uuid": self.member_uuid,
                "cc_queue_joined_epoch": str(self.joined),
                "cc_queue": queue,
            },
        )
        self.session_uuid = self.leg.uuid

    def _member_event(self, action: str, function: str = "member") -> dict[str, str]:
        srv = self._server
        event = {"Event-Subclass": "callcenter::info", **srv._channel_event("CUSTOM", self.leg)}
        event["Event-Calling-File"] = "mod_callcenter.c"
        event["Event-Calling-Function"] = (
            "callcenter_function" if function == "member" else "outbound_agent_thread_run"
        )
        event["Event-Calling-Line-Number"] = "3113"
        event |= {"CC-Queue": self.queue, "CC-Action": action}
        return event

    def _ids(self) -> dict[str, str]:
        return {
            "CC-Member-UUID": self.member_uuid,
            "CC-Member-Session-UUID": self.session_uuid,
            "CC-Member-CID-Name": self.caller[0],
            "CC-Member-CID-Number": self.caller[1],
        }

    def _count_event(self) -> dict[str, str]:
        srv = self._server
        event = srv._base_event("CUSTOM", "callcenter::info")
        event["Event-Calling-Function"] = "cc_queue_count"
        with srv._lock:
            count = sum(1 for m in srv._queue_members if m.queue == self.queue)
        event |= {
            "CC-Queue": self.queue,
            "CC-Action": "members-count",
            "CC-Count": str(count),
            "CC-Selection": "Single-Queue",
        }
        return event

    def _join(self) -> None:
        srv = self._server
        leg = self.leg
        leg.answer_state, leg.call_state = "answered", "ACTIVE"
        leg.answered_us = srv._now_us()
        with srv._lock:
            srv._legs[leg.uuid] = leg
            srv._queue_members.append(self)
        srv._emit(srv._channel_event("CHANNEL_CREATE", leg))
        srv._emit(srv._channel_event("CHANNEL_ANSWER", leg))
        srv._emit({**self._member_event("member-queue-start"), **self._ids()})
        srv._emit(self._count_event())

    def offer_to(self, agent: str) -> QueueOffer:
        """mod_callcenter offers this caller to ``agent`` (``agent-offering``, its leg)."""

        def make() -> QueueOffer:
            srv = self._server
            with srv._lock:
                row = srv._agents.get(agent)
                if row is None or (self.queue, agent) not in srv._tiers:
                    raise ValueError(f"agent {agent} is not in {self.queue}")
                extension = row.agent.contact.rsplit("/", 1)[-1]
                self.state = "Trying"
            offer = QueueOffer(
                srv, self.queue, agent, self.caller[1], self.caller[0], extension, self
            )
            self.offer = offer
            offer._offer()
            return offer

        return self._server._on_loop(make)

    def abandon(self) -> None:
        self._server._on_loop(lambda: self._cancel("BREAK_OUT"))

    def time_out(self) -> None:
        self._server._on_loop(lambda: self._cancel("TIMEOUT"))

    def _cancel(self, reason: str) -> None:
        srv = self._server
        if self.state not in ("Waiting", "Trying"):
            return
        if self.offer is not None:
            self.offer._fail("ORIGINATOR_CANCEL")
        with srv._lock:
            # The row stays, Abandoned and without its session, for discard-abandoned-after.
            self.state, self.abandoned_epoch = "Abandoned", int(time.time())
        event = self._member_event("member-queue-end")
        event |= {
            "CC-Member-Leaving-Time": str(self.abandoned_epoch),
            "CC-Member-Joined-Time": str(self.joined),
            "CC-Cause": "Cancel",
            "CC-Cancel-Reason": reason,
            **self._ids(),
        }
        srv._emit(event)
        srv._emit(self._count_event())
        if reason == "BREAK_OUT":  # the caller hung up; sent on, it goes elsewhere
            self.leg.answer_state, self.leg.call_state = "hangup", "HANGUP"
            hangup = srv._channel_event("CHANNEL_HANGUP_COMPLETE", self.leg)
            hangup["Hangup-Cause"] = "NORMAL_CLEARING"
            srv._emit(hangup)
        with srv._lock:
            srv._legs.pop(self.leg.uuid, None)

    def _gone(self) -> None:
        srv = self._server
        with srv._lock:
            if self in srv._queue_members:
                srv._queue_members.remove(self)
            srv._legs.pop(self.leg.uuid, None)

    def row(self) -> str:
        """Its row of ``queue list members`` (``members`` table, in its column order)."""
        serving = self.offer._agent if self.offer is not None else ""
        session = "" if self.state == "Abandoned" else self.session_uuid
        return "|".join(
            [
                self.queue, "single_box", self.member_uuid, session, self.caller[1],
                self.caller[0], str(self.joined), str(self.joined), "0", str(self.bridge_epoch),
                str(self.abandoned_epoch), str(self.joined), "0", serving,
                "single_box" if serving else "", self.state,
            ]
        )  # fmt: skip


class EslServer:
    """A FreeSWITCH event socket on 127.0.0.1 with mod_callcenter's agents and tiers."""

    def __init__(
        self,
        *,
        password: str = "ClueCon-test-01",  # noqa: S107 - a test fixture's password
        queues: Sequence[str] = ("support@default",),
        port: int = 0,
    ) -> None:
        self._password = password
        self._queues = tuple(queues)
        self._lock = threading.Lock()
        self._agents: dict[str, _AgentRow] = {}
        self._tiers: dict[tuple[str, str], _Tier] = {}
        self._commands: list[ReceivedCommand] = []
        self._sessions: dict[int, _Session] = {}
        self._session_ids = itertools.count(1)
        self._accepted = 0
        self._accepted_at: list[float] = []
        self._max_outstanding = 0
        self._delay = 0.0
        self._failures: list[list[object]] = []  # [prefix, remaining, answer]
        self._refuse = False
        self._flood: tuple[bytes, int] | None = None
        self._legs: dict[str, _Leg] = {}
        self._queue_members: list[QueueMember] = []  # callers in queues, as they joined
        self._core_uuid = str(uuid.uuid4())
        self._sequence = itertools.count(1000)
        self._last_us = 0
        self._started = time.time()
        self._tasks: set[asyncio.Task[None]] = set()
        self._registrations: dict[str, str] = {}  # user: call-id, on the "internal" profile
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port: int = port
        self.start_listening()

    # -- lifetime -----------------------------------------------------------------------

    def __enter__(self) -> EslServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self._stop_listening()
        # Cutting the transports ends each connection's reading, so its task finishes on its
        # own (cancelling it instead makes asyncio's stream callback log the cancellation).
        for session in list(self._sessions.values()):
            session.writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # -- looking ------------------------------------------------------------------------

    def agents(self) -> dict[str, Agent]:
        with self._lock:
            return {name: row.agent for name, row in self._agents.items()}

    def tiers(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._tiers)

    def commands(self, startswith: str = "") -> list[ReceivedCommand]:
        with self._lock:
            return [c for c in self._commands if c.line.startswith(startswith)]

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                last = "\n".join(f"  [{c.session}] {c.line}" for c in self.commands()[-20:])
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or check!r}\n"
                    f"agents: {self.agents()}\ntiers: {sorted(self.tiers())}\n"
                    f"last commands:\n{last}"
                )
            time.sleep(0.01)

    @property
    def connections_accepted(self) -> int:
        with self._lock:
            return self._accepted

    def accepted_at(self) -> list[float]:
        """When each connection was accepted (``time.monotonic()``)."""
        with self._lock:
            return list(self._accepted_at)

    @property
    def sessions(self) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.authed)

    @property
    def max_outstanding(self) -> int:
        with self._lock:
            return self._max_outstanding

    # -- drift made by someone else (no events) -----------------------------------------

    def set_agent(
        self, name: str, *, contact: str = "", status: str = "Logged Out", type: str = "Callback"
    ) -> None:
        with self._lock:
            row = self._agents.setdefault(name, _AgentRow(Agent(name)))
            row.agent = Agent(name, type=type, contact=contact, status=status)

    def remove_agent(self, name: str) -> None:
        with self._lock:
            self._agents.pop(name, None)
            for key in [k for k in self._tiers if k[1] == name]:
                del self._tiers[key]

    def set_tier(self, queue: str, agent: str) -> None:
        with self._lock:
            self._tiers.setdefault((queue, agent), _Tier())

    def remove_tier(self, queue: str, agent: str) -> None:
        with self._lock:
            self._tiers.pop((queue, agent), None)

    # -- faults -------------------------------------------------------------------------

    def set_delay(self, seconds: float) -> None:
        """Wait this long before answering each command (auth included)."""
        with self._lock:
            self._delay = seconds

    def fail_next(
        self, startswith: str, count: int = 1, answer: str = "-ERR internal error"
    ) -> None:
        """The next ``count`` api commands whose text after ``api `` starts with
        ``startswith`` answer ``answer`` (plus the module's ``\\n``), changing nothing."""
        with self._lock:
            self._failures.append([startswith, count, answer])

    def refuse_auth(self, refuse: bool) -> None:
        with self._lock:
            self._refuse = refuse

    def drop_connections(self) -> None:
        """Close every connection at once, with no disconnect notice (a crash or a cut)."""

        def drop() -> None:
            for session in list(self._sessions.values()):
                session.writer.transport.abort()

        self._on_loop(drop)

    def stop_listening(self) -> None:
        self._run(self._stop_listening())

    def start_listening(self) -> None:
        self._run(self._start_listening())

    async def _start_listening(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._accept, _HOST, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is None:
            return
        self._server.close()
        self._server = None

    # -- the phone side -----------------------------------------------------------------

    def status_at_phone(self, agent: str, status: str) -> None:
        """The agent changes status with a feature code (the dialplan runs
        ``callcenter_config agent set status``): mod_callcenter updates it and fires
        ``agent-status-change``, then the core fires the ``API`` event, as for any client."""
        answer = self.api_elsewhere(f"callcenter_config agent set status {agent} '{status}'")
        assert answer == "+OK\n", answer

    # -- phones (mod_sofia): no recording has them; modelled from mod_sofia's source
    # (sofia_reg.c: the sofia::register, sofia::unregister and sofia::expire events and
    # their headers; mod_sofia.c cmd_status: "sofia status profile <name> reg").

    def register_phone(self, user: str, *, profile: str = "internal") -> None:
        """A phone registers (sofia_reg_handle_register: ``sofia::register``)."""

        def fire() -> None:
            call_id = f"{user}-{uuid.uuid4().hex[:12]}"
            with self._lock:
                self._registrations[user] = call_id
            event = self._base_event("CUSTOM", "sofia::register")
            event |= {
                "Event-Calling-File": "sofia_reg.c",
                "Event-Calling-Function": "sofia_reg_handle_register_token",
                "profile-name": profile,
                "from-user": user,
                "from-host": _PBX_IP,
                "presence-hosts": _PBX_IP,
                "contact": f'"{user}" <sip:{user}@{_PHONE_IP}:5060>',
                "call-id": call_id,
                "rpid": "unknown",
                "status": "Registered(UDP)",
                "expires": "3600",
                "to-user": user,
                "to-host": _PBX_IP,
                "network-ip": _PHONE_IP,
                "network-port": "5060",
                "username": user,
                "realm": _PBX_IP,
                "user-agent": "Yealink SIP-T46S 66.86.0.15",
            }
            self._emit(event)

        self._on_loop(fire)

    def unregister_phone(
        self, user: str, *, expired: bool = False, profile: str = "internal"
    ) -> None:
        """A phone unregisters (a REGISTER with expires 0: ``sofia::unregister``) or its
        registration expires (sofia_reg_del_callback: ``sofia::expire``, other headers)."""

        def fire() -> None:
            with self._lock:
                call_id = self._registrations.pop(user, f"{user}-gone")
            contact = f'"{user}" <sip:{user}@{_PHONE_IP}:5060>'
            if expired:
                event = self._base_event("CUSTOM", "sofia::expire")
                event |= {
                    "Event-Calling-File": "sofia_reg.c",
                    "Event-Calling-Function": "sofia_reg_del_callback",
                    "profile-name": profile,
                    "call-id": call_id,
                    "user": user,
                    "host": _PBX_IP,
                    "contact": contact,
                    "expires": str(int(time.time()) - 1),
                    "user-agent": "Yealink SIP-T46S 66.86.0.15",
                    "realm": _PBX_IP,
                }
            else:
                event = self._base_event("CUSTOM", "sofia::unregister")
                event |= {
                    "Event-Calling-File": "sofia_reg.c",
                    "Event-Calling-Function": "sofia_reg_handle_register_token",
                    "profile-name": profile,
                    "from-user": user,
                    "from-host": _PBX_IP,
                    "contact": contact,
                    "call-id": call_id,
                    "rpid": "unknown",
                    "expires": "0",
                }
            self._emit(event)

        self._on_loop(fire)

    def set_phone(self, user: str, registered: bool) -> None:
        """The registration as mod_sofia has it, without an event (before a connect)."""
        with self._lock:
            if registered:
                self._registrations[user] = f"{user}-{uuid.uuid4().hex[:12]}"
            else:
                self._registrations.pop(user, None)

    def _sofia_reg(self, profile: str) -> str:
        """cmd_status's answer for ``sofia status profile <profile> reg``."""
        if profile != "internal":
            return "Invalid Profile!\n"
        line = "=" * 97
        with self._lock:
            found = sorted(self._registrations.items())
        blocks = []
        expires = int(time.time()) + 3600
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires))
        for user, call_id in found:
            blocks.append(
                f"Call-ID:    \t{call_id}\n"
                f"User:       \t{user}@{_PBX_IP}\n"
                f'Contact:    \t"{user}" <sip:{user}@{_PHONE_IP}:5060>\n'
                "Agent:      \tYealink SIP-T46S 66.86.0.15\n"
                f"Status:     \tRegistered(UDP)(unknown) EXP({stamp}) EXPSECS(3600)\n"
                "Ping-Status:\tReachable\n"
                "Host:       \tesl-test\n"
                f"IP:         \t{_PHONE_IP}\n"
                "Port:       \t5060\n"
                f"Auth-User:  \t{user}\n"
                f"Auth-Realm: \t{_PBX_IP}\n"
                f"MWI-Account:\t{user}@{_PBX_IP}\n\n"
            )
        return (
            f"\nRegistrations:\n{line}\n"
            + "".join(blocks)
            + f"Total items returned: {len(found)}\n{line}\n"
        )

    def api_elsewhere(self, command: str) -> str:
        """An ``api`` command run by someone else (fs_cli, another event-socket client, the
        dialplan): its answer; subscribers get its events and its ``API`` event."""
        return self._on_loop(lambda: self._api(command))

    def replay(self, events: Sequence[dict[str, str]]) -> None:
        """Send recorded events (lines of a recording, ``t`` dropped) to every subscriber,
        in order, as they were sent."""

        def send() -> None:
            for event in events:
                self._emit({k: str(v) for k, v in event.items() if k != "t"})

        self._on_loop(send)

    def flood(
        self, events: Sequence[dict[str, str]], times: int, *, every_connection: bool = False
    ) -> None:
        """Send ``events`` (in order) ``times`` times to every subscriber as fast as its
        socket takes them (a hostile server); returns at once. With ``every_connection``,
        each connection that subscribes later is flooded too, until ``stop_flood``."""
        burst = b"".join(
            _event_frame({k: v for k, v in e.items() if k != "t"}, "plain") for e in events
        )

        def start() -> None:
            self._flood = (burst, times) if every_connection else None
            for session in list(self._sessions.values()):
                if session.authed and (session.events or session.all_events):
                    self._spawn(self._flood_session(session, burst, times))

        self._on_loop(start)

    def stop_flood(self) -> None:
        def stop() -> None:
            self._flood = None

        self._on_loop(stop)

    async def _flood_session(self, session: _Session, burst: bytes, times: int) -> None:
        for _ in range(times):
            if session.writer.is_closing() or session.id not in self._sessions:
                return
            session.writer.write(burst)
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()

    def send_raw(self, data: bytes) -> None:
        """Bytes to every authenticated connection, as they are (a hostile server)."""

        def send() -> None:
            for session in list(self._sessions.values()):
                if session.authed and not session.writer.is_closing():
                    session.writer.write(data)

        self._on_loop(send)

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def call_in(self, extension: str, *, caller_num: str, caller_name: str, did: str) -> Call:
        """A call from the trunk to ``did`` that rings ``extension`` (FreeSWITCH's outbound
        leg to ``user/<extension>``)."""

        def make() -> Call:
            trunk = self._leg(
                "inbound",
                f"sofia/external/{caller_num}@{_TRUNK_IP}",
                username=caller_num,
                cid=(caller_name, caller_num),
                destination=did,
                callee=("", ""),
                addr=_TRUNK_IP,
                context="public",
                variables={"sip_from_user": caller_num, "sip_to_user": did},
            )
            phone = self._leg(
                "outbound",
                f"sofia/internal/sip:{extension}@{_PHONE_IP}:5060",
                username=caller_num,
                cid=(caller_name, caller_num),
                destination=extension,
                callee=(extension, extension),
                addr=_PHONE_IP,
                context="default",
                variables={"dialed_user": extension, "dialed_domain": _PBX_IP},
            )
            return self._start_call(trunk, phone, phone)

        return self._on_loop(make)

    def call_out(self, extension: str, *, dialled: str) -> Call:
        """A call placed by ``extension`` to ``dialled`` (FreeSWITCH's inbound leg from it)."""

        def make() -> Call:
            phone = self._leg(
                "inbound",
                f"sofia/internal/{extension}@{_PBX_IP}",
                username=extension,
                cid=(extension, extension),
                destination=dialled,
                callee=("", ""),
                addr=_PHONE_IP,
                context="default",
                variables={"sip_from_user": extension, "sip_to_user": dialled},
            )
            trunk = self._leg(
                "outbound",
                f"sofia/external/{dialled}@{_TRUNK_IP}",
                username=extension,
                cid=(extension, extension),
                destination=dialled,
                callee=(dialled, dialled),
                addr=_TRUNK_IP,
                context="default",
                variables={},
            )
            return self._start_call(phone, trunk, phone)

        return self._on_loop(make)

    def queue_offer(
        self, queue: str, agent: str, *, caller_num: str, caller_name: str
    ) -> QueueOffer:
        """mod_callcenter offers a caller waiting in ``queue`` to ``agent``: its
        ``agent-offering`` event (as recorded) and the leg to the agent's contact
        (``user/<extension>``) ringing; ``QueueOffer.fail`` ends it unanswered."""

        def make() -> QueueOffer:
            with self._lock:
                row = self._agents.get(agent)
                if row is None or (queue, agent) not in self._tiers:
                    raise ValueError(f"agent {agent} is not in {queue}")
                extension = row.agent.contact.rsplit("/", 1)[-1]
            offer = QueueOffer(self, queue, agent, caller_num, caller_name, extension)
            offer._offer()
            return offer

        return self._on_loop(make)

    def queue_caller(
        self, queue: str, *, caller_num: str, caller_name: str = "", waited: float = 0.0
    ) -> QueueMember:
        """A caller enters ``queue`` (``callcenter <queue>`` in the dialplan) and waits;
        ``waited``: it joined that many seconds ago."""

        def make() -> QueueMember:
            if queue not in self._queues:
                raise ValueError(f"no queue {queue}")
            member = QueueMember(self, queue, caller_num, caller_name, waited)
            member._join()
            return member

        return self._on_loop(make)

    def _start_call(self, first: _Leg, second: _Leg, extension: _Leg) -> Call:
        with self._lock:
            self._legs[first.uuid] = first
            self._legs[second.uuid] = second
        self._emit(self._channel_event("CHANNEL_CREATE", first))
        self._emit(self._channel_event("CHANNEL_CREATE", second))
        self._emit(self._channel_event("CHANNEL_PROGRESS", extension))
        return Call(self, first, second, extension)

    def _leg(
        self,
        direction: str,
        channel_name: str,
        *,
        username: str,
        cid: tuple[str, str],
        destination: str,
        callee: tuple[str, str],
        addr: str,
        context: str,
        variables: dict[str, str],
    ) -> _Leg:
        return _Leg(
            uuid=str(uuid.uuid4()),
            direction=direction,
            channel_name=channel_name,
            username=username,
            cid_name=cid[0],
            cid_num=cid[1],
            destination=destination,
            callee_name=callee[0],
            callee_num=callee[1],
            network_addr=addr,
            context=context,
            variables=variables,
            created_us=self._now_us(),
        )

    # -- events -------------------------------------------------------------------------

    def _now_us(self) -> int:
        # Strictly increasing, so a client can order events by Event-Date-Timestamp.
        self._last_us = max(self._last_us + 1, int(time.time() * 1_000_000))
        return self._last_us

    def _base_event(self, name: str, subclass: str = "") -> dict[str, str]:
        now_us = self._now_us()
        seconds = now_us / 1_000_000
        event: dict[str, str] = {}
        if subclass:
            event["Event-Subclass"] = subclass
        event |= {
            "Event-Name": name,
            "Core-UUID": self._core_uuid,
            "FreeSWITCH-Hostname": "esl-test",
            "FreeSWITCH-Switchname": "esl-test",
            "FreeSWITCH-IPv4": _PBX_IP,
            "FreeSWITCH-IPv6": "::1",
            "Event-Date-Local": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)),
            "Event-Date-GMT": formatdate(seconds, usegmt=True),
            "Event-Date-Timestamp": str(now_us),
            "Event-Calling-File": "switch_channel.c" if not subclass else "mod_callcenter.c",
            "Event-Calling-Function": "switch_channel_perform_set_callstate",
            "Event-Calling-Line-Number": "1",
            "Event-Sequence": str(next(self._sequence)),
        }
        return event

    def _status_event(self, agent: str, status: str) -> dict[str, str]:
        event = self._base_event("CUSTOM", "callcenter::info")
        event["Event-Calling-Function"] = "cc_agent_update"
        event["Event-Calling-Line-Number"] = "1043"
        event |= {"CC-Agent": agent, "CC-Action": "agent-status-change", "CC-Agent-Status": status}
        return event

    def _api_event(self, command: str, argument: str) -> dict[str, str]:
        event = self._base_event("API")
        event |= {
            "Event-Calling-File": "switch_loadable_module.c",
            "Event-Calling-Function": "switch_api_execute",
            "Event-Calling-Line-Number": "3140",
            "API-Command": command,
        }
        if argument:
            event["API-Command-Argument"] = argument
        return event

    def _channel_event(self, name: str, leg: _Leg) -> dict[str, str]:
        event = self._base_event(name)
        states = {
            "CHANNEL_CREATE": ("CS_INIT", "2"),
            "CHANNEL_HANGUP_COMPLETE": ("CS_REPORTING", "11"),
        }
        state, number = states.get(name, ("CS_EXCHANGE_MEDIA", "5"))
        event |= {
            "Channel-State": state,
            "Channel-Call-State": leg.call_state,
            "Channel-State-Number": number,
            "Channel-Name": leg.channel_name,
            "Unique-ID": leg.uuid,
            "Call-Direction": leg.direction,
            "Presence-Call-Direction": leg.direction,
            "Channel-HIT-Dialplan": "true" if leg.direction == "inbound" else "false",
            "Channel-Call-UUID": leg.uuid,
            "Answer-State": leg.answer_state,
            "Caller-Direction": leg.direction,
            "Caller-Logical-Direction": leg.direction,
            "Caller-Username": leg.username,
            "Caller-Dialplan": "XML",
            "Caller-Caller-ID-Name": leg.cid_name,
            "Caller-Caller-ID-Number": leg.cid_num,
            "Caller-Orig-Caller-ID-Name": leg.cid_name,
            "Caller-Orig-Caller-ID-Number": leg.cid_num,
            "Caller-Callee-ID-Name": leg.callee_name,
            "Caller-Callee-ID-Number": leg.callee_num,
            "Caller-Network-Addr": leg.network_addr,
            "Caller-ANI": leg.cid_num,
            "Caller-Destination-Number": leg.destination,
            "Caller-Unique-ID": leg.uuid,
            "Caller-Source": "mod_sofia",
            "Caller-Context": leg.context,
            "Caller-Channel-Name": leg.channel_name,
            "Caller-Profile-Index": "1",
            "Caller-Profile-Created-Time": str(leg.created_us),
            "Caller-Channel-Created-Time": str(leg.created_us),
            # The caller profile's other times, 0 until they happen (as recorded), then
            # the screening and privacy flags.
            "Caller-Channel-Answered-Time": str(leg.answered_us),
            "Caller-Channel-Progress-Time": "0",
            "Caller-Channel-Progress-Media-Time": "0",
            "Caller-Channel-Hangup-Time": "0",
            "Caller-Channel-Transfer-Time": "0",
            "Caller-Channel-Resurrect-Time": "0",
            "Caller-Channel-Bridged-Time": str(leg.answered_us if leg.other else 0),
            "Caller-Channel-Last-Hold": "0",
            "Caller-Channel-Hold-Accum": "0",
            "Caller-Screen-Bit": "true",
            "Caller-Privacy-Hide-Name": "false",
            "Caller-Privacy-Hide-Number": "false",
        }
        if leg.other is not None:
            other = leg.other
            event |= {
                "Other-Type": "originatee" if leg.direction == "inbound" else "originator",
                "Other-Leg-Direction": other.direction,
                "Other-Leg-Username": other.username,
                "Other-Leg-Caller-ID-Name": other.cid_name,
                "Other-Leg-Caller-ID-Number": other.cid_num,
                "Other-Leg-Destination-Number": other.destination,
                "Other-Leg-Unique-ID": other.uuid,
                "Other-Leg-Channel-Name": other.channel_name,
            }
        event["variable_direction"] = leg.direction
        event["variable_uuid"] = leg.uuid
        for key, value in leg.variables.items():
            event[f"variable_{key}"] = value
        return event

    def _emit(self, event: dict[str, str]) -> None:
        """Send an event to every session subscribed to it (loop thread only). Like
        mod_event_socket, ALL receives everything and CUSTOM needs the subclass named."""
        name, subclass = event["Event-Name"], event.get("Event-Subclass", "")
        for session in list(self._sessions.values()):
            if not session.authed:
                continue
            wanted = session.all_events or (
                name in session.events and (name != "CUSTOM" or subclass in session.subclasses)
            )
            if wanted and not session.writer.is_closing():
                session.writer.write(_event_frame(event, session.format))

    # -- connections --------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._accepted += 1
            self._accepted_at.append(time.monotonic())
            session = _Session(next(self._session_ids), writer)
            self._sessions[session.id] = session
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        answering = asyncio.ensure_future(self._answer_loop(session, queue))
        try:
            writer.write(b"Content-Type: auth/request\n\n")
            await self._read_loop(session, reader, queue)
            await answering
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            answering.cancel()
            with contextlib.suppress(BaseException):
                await answering
            with self._lock:
                self._sessions.pop(session.id, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _read_loop(
        self, session: _Session, reader: asyncio.StreamReader, queue: asyncio.Queue[str | None]
    ) -> None:
        """Read commands as they come (a command is a line, optional header lines, then an
        empty line; a Content-Length header brings a body) and queue them for answering."""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                command = line.decode(errors="replace").rstrip("\r\n")
                if not command:
                    continue  # FreeSWITCH skips blank lines before a command
                length = 0
                while True:
                    header = (await reader.readline()).decode(errors="replace").rstrip("\r\n")
                    if not header:
                        break
                    key, _, value = header.partition(":")
                    if key.strip().lower() == "content-length":
                        length = int(value.strip() or 0)
                if length:
                    await reader.readexactly(length)
                with self._lock:
                    self._commands.append(ReceivedCommand(command, time.monotonic(), session.id))
                    session.outstanding += 1
                    self._max_outstanding = max(self._max_outstanding, session.outstanding)
                queue.put_nowait(command)
        finally:
            queue.put_nowait(None)

    async def _answer_loop(self, session: _Session, queue: asyncio.Queue[str | None]) -> None:
        writer = session.writer
        while (command := await queue.get()) is not None:
            with self._lock:
                delay = self._delay
            if delay:
                await asyncio.sleep(delay)
            frame, goodbye = self._answer(session, command)
            with self._lock:
                session.outstanding -= 1
            if writer.is_closing():
                return
            writer.write(frame)
            if goodbye:
                writer.write(
                    b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s"
                    % (len(DISCONNECT_TEXT.encode()), DISCONNECT_TEXT.encode())
                )
                await writer.drain()
                writer.close()
                return
            await writer.drain()

    def _answer(self, session: _Session, command: str) -> tuple[bytes, bool]:
        """One command's answer frame and whether the connection ends after it."""
        lower = command.lower()
        # mod_event_socket parse_command: exit works before and after auth.
        if lower.startswith(("exit", "...")):
            return _reply("+OK bye"), True
        if not session.authed:
            if lower.startswith("auth "):
                with self._lock:
                    refused = self._refuse
                if refused or command[5:] != self._password:
                    return _reply("-ERR invalid"), True
                with self._lock:
                    session.authed = True
                return _reply("+OK accepted"), False
            return _reply("-ERR command not found"), False
        if lower.startswith("api "):
            return _api_frame(self._api(command[4:])), False
        if lower.startswith("event"):
            reply = self._subscribe(session, command)
            if self._flood is not None and reply.startswith("+OK"):
                self._loop.call_soon(self._spawn, self._flood_session(session, *self._flood))
            return _reply(reply), False
        if lower.startswith("noevents"):
            if not (session.all_events or session.events):
                return _reply("-ERR not listening for events"), False
            session.all_events = False
            session.events.clear()
            session.subclasses.clear()
            return _reply("+OK no longer listening for events"), False
        return _reply("-ERR command not found"), False

    def _subscribe(self, session: _Session, command: str) -> str:
        words = command.split(" ")[1:]
        if words and words[0].lower() in ("plain", "json", "xml"):
            session.format = words.pop(0).lower()
        keys = 0
        custom = False
        for word in filter(None, words):
            if custom:
                session.subclasses.add(word)
            elif word.upper() in EVENT_NAMES:
                name = word.upper()
                keys += 1
                session.all_events = session.all_events or name == "ALL"
                session.events.add(name)
                custom = name == "CUSTOM"
        if not keys:
            return "-ERR no keywords supplied"
        return f"+OK event listener enabled {session.format}"

    # -- api ----------------------------------------------------------------------------

    def _api(self, text: str) -> str:
        with self._lock:
            for failure in self._failures:
                prefix, remaining, answer = failure
                assert isinstance(prefix, str)
                assert isinstance(remaining, int)
                if remaining > 0 and text.startswith(prefix):
                    failure[1] = remaining - 1
                    return str(answer) if str(answer).endswith("\n") else f"{answer}\n"
        name, _, args = text.partition(" ")
        # switch_api_execute creates its API event (sequence and time) before running the
        # command and fires it after: it comes after the command's own events, with a
        # lower Event-Sequence, as in the recording.
        api_event = self._api_event(name, args)
        if name == "callcenter_config":
            events: list[dict[str, str]] = []
            with self._lock:
                body = self._callcenter(args, events)
            # mod_event_socket writes the api/response from the listener's thread, and the
            # events fired meanwhile wait in the listener's queue: they come after it.
            for event in [*events, api_event]:
                self._loop.call_soon(self._emit, event)
            return body
        self._loop.call_soon(self._emit, api_event)
        if name == "status":
            return self._status()
        if name == "show" and args.strip() == "channels as json":
            return self._channels_json()
        words = args.split()
        if name == "sofia" and words[:2] == ["status", "profile"] and words[3:] == ["reg"]:
            return self._sofia_reg(words[2])
        return f"-ERR {name} Command not found!\n"

    def _callcenter(self, args: str, events: list[dict[str, str]]) -> str:
        argv = separate_string(args)
        if len(argv) < 2:
            return "-ERR Invalid!\n"
        section, action, rest = argv[0].lower(), argv[1].lower(), argv[2:]
        if section == "agent":
            return self._agent_command(action, rest, events)
        if section == "tier":
            return self._tier_command(action, rest)
        if section == "queue" and action == "list" and len(rest) > 1:
            what, queue = rest[0].lower(), rest[1]
            if what == "tiers":
                return _table(_TIER_COLUMNS, self._tier_rows(queue))
            if what == "members":
                rows = [m.row() for m in self._queue_members if m.queue == queue]
                return _table(_MEMBER_COLUMNS, rows)
            if what == "agents":
                names = [a for q, a in self._tiers if q == queue]
                rows = [self._agents[n] for n in names if n in self._agents]
                wanted = rest[2] if len(rest) > 2 else None
                shown = [r for r in rows if wanted is None or r.agent.status == wanted]
                return _table(_AGENT_COLUMNS, [_agent_row(r) for r in shown])
            return "-ERR Invalid!\n"
        return ""  # mod_callcenter writes nothing for an unknown section or action

    def _agent_command(self, action: str, rest: list[str], events: list[dict[str, str]]) -> str:
        if action == "add":
            if len(rest) < 2:
                return "-ERR Invalid!\n"
            name, agent_type = rest[0], rest[1]
            if agent_type.lower() not in (t.lower() for t in AGENT_TYPES):
                return "-ERR Agent type invalid!\n"
            if name in self._agents:
                return "-ERR Agent already exist!\n"
            self._agents[name] = _AgentRow(Agent(name, type=agent_type))
            return "+OK\n"
        if action == "del":
            if not rest:
                return "-ERR Invalid!\n"
            self._agents.pop(rest[0], None)
            for key in [k for k in self._tiers if k[1] == rest[0]]:
                del self._tiers[key]
            return "+OK\n"
        if action == "set":
            if len(rest) < 3:
                return "-ERR Invalid!\n"
            return self._agent_update(rest[0].lower(), rest[1], rest[2], events)
        if action == "list":
            if len(rest) > 1:
                return "-ERR Invalid!\n"
            rows = [r for n, r in self._agents.items() if not rest or n == rest[0]]
            return _table(_AGENT_COLUMNS, [_agent_row(r) for r in rows])
        return ""

    def _agent_update(self, key: str, name: str, value: str, events: list[dict[str, str]]) -> str:
        row = self._agents.get(name)
        if row is None:
            return "-ERR Agent not found!\n"
        if key == "status":
            status = next((s for s in AGENT_STATUSES if s.lower() == value.lower()), None)
            if status is None:
                return "-ERR Invalid Agent Status!\n"
            # The module stores the value as written and fires the event even when the
            # status does not change.
            row.agent = replace(row.agent, status=value)
            row.last_status_change = int(time.time())
            events.append(self._status_event(name, value))
        elif key == "contact":
            row.agent = replace(row.agent, contact=value)
        elif key == "type":
            if value.lower() not in (t.lower() for t in AGENT_TYPES):
                return "-ERR Invalid Agent Type!\n"
            row.agent = replace(row.agent, type=value)
        elif key == "state":
            states = ("Waiting", "Receiving", "In a queue call", "Idle", "Reserved")
            if value.lower() not in (s.lower() for s in states):
                return "-ERR Invalid Agent State!\n"
            row.state = value
        elif key == "uuid":
            row.uuid = value
        elif key not in (
            "ready_time",
            "busy_delay_time",
            "reject_delay_time",
            "no_answer_delay_time",
            "max_no_answer",
            "wrap_up_time",
        ):
            return "-ERR Invalid Agent Update KEY!\n"
        return "+OK\n"

    def _tier_command(self, action: str, rest: list[str]) -> str:
        if action == "add":
            if len(rest) < 4:
                return "-ERR Invalid!\n"
            queue, agent = rest[0], rest[1]
            if queue not in self._queues:
                return "-ERR Queue not found!\n"
            if agent not in self._agents:
                return "-ERR Agent not found!\n"
            if (queue, agent) in self._tiers:
                return "-ERR Tier already exist!\n"
            self._tiers[(queue, agent)] = _Tier(level=_atoi(rest[2]), position=_atoi(rest[3]))
            return "+OK\n"
        if action == "del":
            if len(rest) < 2:
                return "-ERR Invalid!\n"
            self._tiers.pop((rest[0], rest[1]), None)
            return "+OK\n"
        if action == "list":
            return _table(_TIER_COLUMNS, self._tier_rows(None))
        return ""

    def _tier_rows(self, queue: str | None) -> list[str]:
        # "SELECT * FROM tiers ORDER BY level, position" (a stable sort keeps insertion order).
        items = sorted(self._tiers.items(), key=lambda kv: (kv[1].level, kv[1].position))
        return [
            f"{q}|{a}|{t.state}|{t.level}|{t.position}"
            for (q, a), t in items
            if queue is None or q == queue
        ]

    def _status(self) -> str:
        up = int(time.time() - self._started)
        with self._lock:
            legs = len(self._legs)
        return (
            f"UP 0 years, 0 days, {up // 3600} hours, {up // 60 % 60} minutes, {up % 60} "
            "seconds, 0 milliseconds, 0 microseconds\n"
            "FreeSWITCH (Version 1.10.12-release 64bit) is ready\n"
            f"{legs} session(s) since startup\n"
            f"{legs} session(s) - peak {legs}, last 5min {legs} \n"
            "0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n"
            "1000 session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n"
        )

    def _channels_json(self) -> str:
        with self._lock:
            legs = list(self._legs.values())
        if not legs:
            return json.dumps({"row_count": 0}) + "\n"
        rows = [
            {
                "uuid": leg.uuid,
                "direction": leg.direction,
                "created_epoch": str(leg.created_us // 1_000_000),
                "name": leg.channel_name,
                "state": "CS_EXCHANGE_MEDIA",
                "cid_name": leg.cid_name,
                "cid_num": leg.cid_num,
                "ip_addr": leg.network_addr,
                "dest": leg.destination,
                "callstate": leg.call_state,
                "callee_name": leg.callee_name,
                "callee_num": leg.callee_num,
            }
            for leg in legs
        ]
        return json.dumps({"row_count": len(rows), "rows": rows}, indent=1) + "\n"

    # -- plumbing -----------------------------------------------------------------------

    def _run(self, coro: Coroutine[object, object, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def _on_loop(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the server's loop (state and sockets belong to it) and return its
        result; called on the loop itself, it just runs."""
        if threading.current_thread() is self._thread:
            return fn()

        async def call() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)


def _reply(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def _api_frame(body: str) -> bytes:
    data = (body or "-ERR no reply\n").encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n%s" % (len(data), data)


def _event_frame(event: dict[str, str], fmt: str) -> bytes:
    if fmt == "json":
        body = json.dumps(event).encode()
    else:
        # switch_event_serialize: "Name: url-encoded value\n" per header, then an empty line.
        text = "".join(f"{k}: {url_encode(v) or '_undef_'}\n" for k, v in event.items()) + "\n"
        body = text.encode()
    return b"Content-Length: %d\nContent-Type: text/event-%s\n\n%s" % (
        len(body),
        fmt.encode(),
        body,
    )


def _table(columns: str, rows: list[str]) -> str:
    # list_result_callback writes the column names with the first row only: no rows, no header.
    if not rows:
        return "+OK\n"
    return "\n".join([columns, *rows]) + "\n+OK\n"


def _agent_row(row: _AgentRow) -> str:
    a = row.agent
    numbers = "|".join(["0"] * 8 + [str(row.last_status_change)] + ["0"] * 5)
    return f"{a.name}|single_box|{row.uuid}|{a.type}|{a.contact}|{a.status}|{row.state}|{numbers}"


def _atoi(text: str) -> int:
    digits = ""
    for ch in text.strip():
        if ch.isdigit() or (not digits and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0
