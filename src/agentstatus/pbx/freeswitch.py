"""FreeSWITCH over the event socket: mod_callcenter agents from seats, status changes
and channel events back.

A seat is a mod_callcenter agent (``{user_id}``) with a contact (``user/{extension}``) and
a tier in every configured queue. FreeSWITCH has no pause reason: the status an agent is
on break for is agentstatus's. Every command is idempotent: an agent or tier that exists
already, or an agent that is not there when logging out, is success.

The adapter follows each agent's status from mod_callcenter's own ``agent-status-change``
events (and ``agent list`` at every reconcile), so a status the phone already has is never
sent again, and it notices an agent or tier deleted by someone else (``API`` events of
``callcenter_config agent del``/``tier del``, or ``-ERR Agent not found!``) and sets it up
again at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque

from agentstatus.domain.calls import Call, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.pbx_config import PbxConfig, fill
from agentstatus.domain.phone_registration import PhoneSeen
from agentstatus.domain.queues import WaitingNow
from agentstatus.domain.seats import Seat, SeatState
from agentstatus.outbound import OutboundPolicy
from agentstatus.pbx.connector import Connector
from agentstatus.pbx.esl import CommandFailed, EslConnection, EslError, Headers
from agentstatus.pbx.freeswitch_queues import QUEUE_ACTIONS, caller_event, waiting_now
from agentstatus.pbx.phone import (
    BoundCrossed,
    LoginRefused,
    PauseAtPhone,
    PhoneError,
    PhoneEvent,
    Reconciled,
    ends_batch,
)
from agentstatus.pbx.registrations import SOFIA_EVENTS, FreeSwitchPhones

AVAILABLE = "Available"
ON_DEMAND = "Available (On Demand)"
ON_BREAK = "On Break"
LOGGED_OUT = "Logged Out"
STATUSES = {s.casefold(): s for s in (AVAILABLE, ON_DEMAND, ON_BREAK, LOGGED_OUT)}
"""mod_callcenter compares statuses case-insensitively and reports them as written."""
STATUS_OF = {SeatState.TAKING: AVAILABLE, SeatState.PAUSED: ON_BREAK, SeatState.OUT: LOGGED_OUT}
EVENTS = (
    "CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_BRIDGE"
    " CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE API CUSTOM callcenter::info "
    + " ".join(SOFIA_EVENTS)
)
EXISTS = "already exist"
INVALID_AGENT = "Agent not found"
MAX_PENDING = 5_000
"""Events read but not yet handled (calls to store, changes at the phone). A phone system
that sends more than can be handled is dropped rather than held in memory."""
RATE_WINDOW = 10.0
"""Seconds over which the events that mean work are counted."""
BASE_RATE = 50
"""Events that mean work (a call's change, a change at the phone) allowed a second on
average over ``RATE_WINDOW``, plus ``RATE_PER_EXTENSION`` for each of the organisation's
extensions: a busy call centre sends a few a second per extension at most; a phone system
that sends more is dropped before its events take other organisations' time."""
RATE_PER_EXTENSION = 2
MAX_CALLS = 20_000
"""Live calls one connection may follow."""
BATCH = 50
"""Events handed to the link at once (its calls are stored in one transaction)."""
NOT_MISSED = frozenset(
    {
        "ORIGINATOR_CANCEL",
        "USER_BUSY",
        "NORMAL_CIRCUIT_CONGESTION",
        "CALL_REJECTED",
        "USER_NOT_REGISTERED",
    }
)
"""``bridge-agent-fail`` causes that are no missed call, as mod_callcenter's own
``no_answer_count`` has them: another agent answered a ring-all call or the caller hung up
(ORIGINATOR_CANCEL), the agent was busy or declined, the phone is not registered."""


def quoted(value: str) -> str:
    """An argument as mod_callcenter splits them: single quotes keep spaces together."""
    if "'" in value or "\n" in value:
        raise PhoneError(f"{value[:40]!r} cannot be sent to mod_callcenter (a quote)")
    return f"'{value}'" if " " in value or not value else value


def arguments(text: str) -> list[str]:
    """Words of a ``callcenter_config`` argument, single quotes grouping (as ``quoted``
    writes them; enough to read other clients' ``API`` events)."""
    words: list[str] = []
    word: list[str] = []
    inside = False
    for ch in text:
        if ch == "'":
            inside = not inside
        elif ch == " " and not inside:
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    return words


def parse_table(text: str) -> list[dict[str, str]]:
    """mod_callcenter's ``list`` output: a ``|``-separated header row, rows, ``+OK``."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].startswith("-ERR"):
        return []
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        if line.startswith("+OK"):
            break
        rows.append(dict(zip(header, line.split("|"), strict=False)))
    return rows


def user_of(channel_name: str) -> str:
    """The user part of ``sofia/internal/1001@host`` or ``sofia/internal/sip:1001@host``."""
    tail = channel_name.rsplit("/", 1)[-1]
    return tail.removeprefix("sip:").split("@", 1)[0]


class OwnEchoes:
    """The ``agent-status-change`` events agentstatus's own commands will cause, so that
    they are not taken for changes made at the phone (no echo loops).

    mod_callcenter fires one event for every ``agent set status`` that succeeds, even when
    the status does not change, and mod_event_socket sends the events a command caused
    after its answer, in order. So each command is expected back exactly once: an event is
    an echo when it matches one still expected for that agent (any expected before it,
    whose event never came, are forgotten). No time window: a change at the phone a moment
    after agentstatus's own command is still a change."""

    def __init__(self) -> None:
        self._expected: dict[str, deque[str]] = {}

    def expect(self, key: str, status: str) -> None:
        waiting = self._expected.setdefault(key, deque(maxlen=16))
        waiting.append(status)

    def cancel(self, key: str, status: str) -> None:
        """The command failed: no event will come for it."""
        waiting = self._expected.get(key)
        if waiting and status in waiting:
            del waiting[len(waiting) - 1 - list(reversed(waiting)).index(status)]

    def is_echo(self, key: str, status: str) -> bool:
        waiting = self._expected.get(key)
        if not waiting or status not in waiting:
            return False
        while waiting.popleft() != status:
            pass
        return True


class FreeSwitch(Connector):
    def __init__(
        self,
        config: PbxConfig,
        secret: str,
        outbound: OutboundPolicy,
        *,
        timeout: float = 5.0,
        extensions: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(config, secret, outbound, timeout=timeout, extensions=extensions)
        self.echoes = OwnEchoes()
        self._esl: EslConnection | None = None
        self._seated: dict[str, str] = {}
        """Agents set up on this connection (agent, contact, every tier): their contact."""
        self._status: dict[str, str] = {}
        """Each agent's status at FreeSWITCH, as last read, answered or reported."""
        self._applied: dict[str, Seat] = {}
        """The seat last applied per agent: what to set up again when one is deleted."""
        self._reported: dict[str, int] = {}
        """``agent-status-change`` events read per agent (an answer is older than them)."""
        self._reseat: set[str] = set()
        """Agents deleted (or a tier of theirs) by someone else, to set up again."""
        self._seating = asyncio.Lock()
        """One seat change at a time: a repair never interleaves with a change."""
        self._pending: deque[PhoneEvent] = deque()
        self._window_start = 0.0
        self._window_count = 0
        self._ready = asyncio.Event()
        self._legs: dict[str, tuple[str, str]] = {}  # other legs: (caller, number called)
        self.phones = FreeSwitchPhones(config, lambda: self.extensions)

    async def connect(self) -> None:
        where = self._where
        reader, writer = await self._open()
        esl = EslConnection(reader, writer, self._on_event)
        self._esl = esl
        try:
            await esl.start(self._secret, self.timeout)
            await esl.subscribe(EVENTS, self.timeout)
        except CommandFailed as exc:
            await esl.close()
            if exc.command == "auth":  # tried again only after minutes (see LoginRefused)
                raise LoginRefused(f"{where} refused the event socket password") from None
            raise PhoneError(f"{where}: {exc}") from None
        except (EslError, OSError, TimeoutError) as exc:
            await esl.close()
            raise PhoneError(f"{where}: {exc or 'no greeting'}") from None

    def connected(self) -> bool:
        return self._esl is not None and not self._esl.closed.is_set()

    async def close(self) -> None:
        if self._esl is not None:
            await self._esl.close()

    async def _api(self, command: str, *, ok: str | None = None) -> str:
        if self._esl is None:
            raise PhoneError("not connected")
        self.commands += 1
        try:
            return await self._esl.api(f"callcenter_config {command}", self.timeout)
        except CommandFailed as exc:
            if ok is not None and ok.lower() in exc.answer.lower():
                return ""
            raise PhoneError(f"callcenter_config {command}: {exc.answer}") from None
        except EslError as exc:
            raise self._lost(str(exc)) from None
        except ValueError as exc:  # a value with a line break: never sent
            raise PhoneError(str(exc)) from None

    def _lost(self, text: str) -> PhoneError:
        """The error of a lost connection: ``BoundCrossed`` when we dropped it for that."""
        crossed = self._esl is not None and self._esl.bound_crossed
        return BoundCrossed(text) if crossed else PhoneError(text)

    def _contact(self, seat: Seat) -> str:
        return fill(self.config.contact, extension=seat.extension, user_id=seat.user_id)

    # -- seats

    async def _send_status(self, key: str, status: str) -> None:
        # Expected before it is sent: the reader may see the event before this task sees
        # the answer.
        self.echoes.expect(key, status)
        reported = self._reported.get(key, 0)
        try:
            await self._api(f"agent set status {quoted(key)} {quoted(status)}")
        except BaseException:
            self.echoes.cancel(key, status)
            raise
        if self._reported.get(key, 0) == reported:
            # No event read since it was sent: FreeSWITCH has the status now. (Otherwise
            # the events, this command's and any later change at the phone, say what.)
            self._status[key] = status

    async def _set_status(self, seat: Seat) -> None:
        status = STATUS_OF[seat.state]
        try:
            await self._send_status(seat.key, status)
        except PhoneError as exc:
            if INVALID_AGENT.lower() not in str(exc).lower():
                raise
            # Deleted at the phone system: nothing of it is there any more.
            self._seated.pop(seat.key, None)
            self._status.pop(seat.key, None)
            if seat.state is SeatState.OUT:
                return  # an agent that is not there is logged out
            await self._seat_in(seat, None)
            await self._send_status(seat.key, status)

    async def _seat_in(self, seat: Seat, tiers: set[tuple[str, str]] | None) -> int:
        """Agent, contact and tiers; how many were missing (all, without ``tiers``)."""
        name = quoted(seat.key)
        done = 0
        if tiers is None:
            self._seated.pop(seat.key, None)
            await self._api(f"agent add {name} Callback", ok=EXISTS)
            await self._api(f"agent set contact {name} {quoted(self._contact(seat))}")
        for queue in self.config.queues:
            if tiers is None or (queue, seat.key) not in tiers:
                await self._api(f"tier add {quoted(queue)} {name} 1 1", ok=EXISTS)
                done += 1
        self._seated[seat.key] = self._contact(seat)
        return done

    async def apply(self, seat: Seat) -> None:
        """The agent, its contact and tiers once per connection (or when the contact
        changes, or when they were deleted), then its status unless FreeSWITCH has it."""
        async with self._seating:
            await self._apply(seat)

    async def _apply(self, seat: Seat) -> None:
        self._applied[seat.key] = seat
        status = STATUS_OF[seat.state]
        if seat.state is SeatState.OUT:
            # An agent that is not there (as last read or followed) is logged out already.
            if self._status.get(seat.key, LOGGED_OUT) != LOGGED_OUT:
                await self._set_status(seat)
            return
        if self._seated.get(seat.key) != self._contact(seat):
            await self._seat_in(seat, None)
        if self._status.get(seat.key) != status:
            await self._set_status(seat)

    async def reconcile(self, desired: dict[str, Seat]) -> Reconciled:
        """Read the agents and tiers, start following them from what was read, and
        repair every difference (an agent or tier found missing is set up again)."""
        agents = {r.get("name", ""): r for r in parse_table(await self._api("agent list"))}
        # Every agent listed (the list is bounded by the answer's size): one created
        # later by someone else is followed from its API event.
        self._status = {
            name: STATUSES.get(r.get("status", "").casefold(), r.get("status", ""))
            for name, r in agents.items()
        }
        tiers = {
            (r.get("queue", ""), r.get("agent", ""))
            for r in parse_table(await self._api("tier list"))
        }
        self._seated = {}
        repaired = 0
        for seat in desired.values():
            async with self._seating:
                repaired += await self._repair(seat, agents.get(seat.key), tiers)
        return Reconciled(len(desired), repaired)

    async def _repair(
        self, seat: Seat, have: dict[str, str] | None, tiers: set[tuple[str, str]]
    ) -> int:
        """One seat against what was read; how many differences were repaired."""
        status = STATUS_OF[seat.state]
        self._applied[seat.key] = seat
        if seat.state is SeatState.OUT:
            if have is not None and self._status.get(seat.key) != LOGGED_OUT:
                await self._set_status(seat)
                return 1
            return 0
        if have is None:  # missing: set up again, whatever this connection did before
            await self._seat_in(seat, None)
            await self._set_status(seat)
            return 1
        repaired = 0
        if have.get("contact") != self._contact(seat):
            await self._api(f"agent set contact {quoted(seat.key)} {quoted(self._contact(seat))}")
            repaired += 1
        repaired += await self._seat_in(seat, tiers)
        if self._status.get(seat.key) != status:
            await self._set_status(seat)
            repaired += 1
        return repaired

    async def _set_up_again(self) -> None:
        """Agents someone else deleted (or took a tier from) while connected, or set to
        take calls while logged out in agentstatus: set again at once, as last applied (a
        newer change is applied after, in order)."""
        while self._reseat:
            key = self._reseat.pop()
            async with self._seating:
                seat = self._applied.get(key)
                if seat is None:
                    continue
                if seat.state is not SeatState.OUT:
                    self._seated.pop(key, None)
                    self._status.pop(key, None)
                try:
                    await self._apply(seat)
                except PhoneError:
                    if not self.connected():
                        raise
                    # Refused: this agent's next change, retry or reconcile tries again.

    # -- events

    def _on_event(self, h: Headers | None) -> None:
        """Each event as the connection reads it: followed and interpreted at once (so the
        statuses are current even while a command's answer is awaited); what needs work
        (calls to store, changes at the phone) waits for the link, within a bound."""
        if h is not None:
            found = self.interpret(h)
            if found:
                self._pending.extend(found)
                self._count(len(found))
                if len(self._pending) > MAX_PENDING and self._esl is not None:
                    self._esl.drop(
                        f"dropped: the phone system sent events faster than they could be "
                        f"handled (more than {MAX_PENDING} waiting)",
                        bound=True,
                    )
        self._ready.set()

    def _count(self, handed: int) -> None:
        """Events that mean work, per ``RATE_WINDOW``: past the bound, drop the connection."""
        now = asyncio.get_running_loop().time()
        if now - self._window_start >= RATE_WINDOW:
            self._window_start, self._window_count = now, 0
        self._window_count += handed
        rate = BASE_RATE + RATE_PER_EXTENSION * len(self.extensions)
        if self._window_count > rate * RATE_WINDOW and self._esl is not None:
            self._esl.drop(
                f"dropped: the phone system sent more than {rate} events a second"
                f" (calls and changes at the phone) for {RATE_WINDOW:g} s",
                bound=True,
            )

    async def events(self) -> list[PhoneEvent] | None:
        esl = self._esl
        if esl is None:
            return None
        while True:
            if esl.closed.is_set():
                # What a dead connection left behind is dropped, not handled late.
                self._pending.clear()
                self._reseat.clear()
                if esl.error:
                    raise self._lost(f"{self._where}: {esl.error}")
                return None
            if self._reseat:
                await self._set_up_again()
                continue
            if self._pending:
                batch: list[PhoneEvent] = []
                while self._pending and len(batch) < BATCH and not ends_batch(batch):
                    batch.append(self._pending.popleft())
                return batch
            self._ready.clear()
            await self._ready.wait()

    def interpret(self, h: Headers) -> list[PhoneEvent]:
        name = h.get("Event-Name", "")
        if name == "CUSTOM":
            if h.get("Event-Subclass") in SOFIA_EVENTS:
                return list(self.phones.interpret(h))
            if h.get("Event-Subclass") != "callcenter::info":
                return []
            if h.get("CC-Action") == "bridge-agent-fail":
                return self._agent_failed(h)
            if h.get("CC-Action") in QUEUE_ACTIONS:  # a caller (freeswitch_queues.py)
                heard = caller_event(h, self.config.queues, self._at(h))
                return [heard] if heard is not None else []
            if h.get("CC-Action") != "agent-status-change":
                return []
            return self._status_change(h.get("CC-Agent", ""), h.get("CC-Agent-Status", ""))
        if name == "API":
            self._api_event(h)
            return []
        found = self._call_event(name, h)
        return [found] if found is not None else []

    def _status_change(self, agent: str, text: str) -> list[PhoneEvent]:
        status = STATUSES.get(text.casefold())
        if status is None:
            return []
        if agent in self._status or agent in self._applied:
            self._status[agent] = status
            self._reported[agent] = self._reported.get(agent, 0) + 1
        if agent not in self._applied or self.echoes.is_echo(agent, status):
            return []  # not an agent of the organisation's, or agentstatus's own command
        if self._applied[agent].state is SeatState.OUT and status != LOGGED_OUT:
            # Logged out in agentstatus (logging in needs an extension, chosen there): put
            # back at once rather than ringing an agent shown logged out.
            self._reseat.add(agent)
            return []
        if status == LOGGED_OUT:
            return [PauseAtPhone(agent, False, "", logged_out=True)]
        return [PauseAtPhone(agent, status == ON_BREAK, "")]

    def _agent_failed(self, h: Headers) -> list[PhoneEvent]:
        """mod_callcenter's ``bridge-agent-fail``: a call offered to one of the
        organisation's agents in a queue followed was not answered."""
        agent, queue = h.get("CC-Agent", ""), h.get("CC-Queue", "")
        if agent not in self._applied or queue not in self.config.queues:
            return []
        if h.get("CC-Hangup-Cause", "") in NOT_MISSED:
            return []
        # Whole seconds (older versions send neither).
        called, aborted = h.get("CC-Agent-Called-Time", ""), h.get("CC-Agent-Aborted-Time", "")
        ring = (
            (int(aborted) - int(called)) * 1000 if called.isdigit() and aborted.isdigit() else None
        )
        return [MissedOffer(agent, queue, ring)]

    def _api_event(self, h: Headers) -> None:
        """Another client's ``callcenter_config`` that undoes a seat: set it up again."""
        if h.get("API-Command") != "callcenter_config":
            return
        words = arguments(h.get("API-Command-Argument", ""))
        if len(words) < 3:
            return
        section, action = words[0].lower(), words[1].lower()
        agent = ""
        if section == "agent" and action == "add" and words[2] in self._applied:
            self._status.setdefault(words[2], LOGGED_OUT)  # mod_callcenter's default
            return
        if section == "agent" and action == "del":
            agent = words[2]
        elif section == "tier" and action == "del" and len(words) > 3:
            agent = words[3] if words[2] in self.config.queues else ""
        elif section == "agent" and action == "set" and len(words) > 4:
            ours = self._applied.get(words[3])  # our own command's event is ours
            mine = ours is not None and words[4] == self._contact(ours)
            agent = words[3] if words[2].lower() == "contact" and not mine else ""
        if section == "agent" and action == "del":
            self._status.pop(agent, None)
        seat = self._applied.get(agent)
        if seat is not None and seat.state is not SeatState.OUT:
            self._seated.pop(agent, None)
            self._reseat.add(agent)

    def _called(self, h: Headers, other: str) -> str:
        """The number a call to the extension came in on: its other leg's destination, or
        (before the legs are linked) that of the latest leg from the same caller."""
        if h.get("Other-Leg-Destination-Number"):
            return h["Other-Leg-Destination-Number"]
        if other in self._legs:
            return self._legs[other][1]
        caller = h.get("Caller-Caller-ID-Number", "")
        for number, destination in reversed(self._legs.values()):
            if caller and number == caller:
                return destination
        return ""

    def _at(self, h: Headers) -> int:
        micros = h.get("Event-Date-Timestamp", "")
        return int(micros) // 1000 if micros.isdigit() else now_ms()

    def _call_event(self, name: str, h: Headers) -> Changed | None:
        uid = h.get("Unique-ID", "")
        if name == "CHANNEL_CREATE":
            extension = user_of(h.get("Channel-Name", ""))
            if extension not in self.extensions:
                self._legs[uid] = (
                    h.get("Caller-Caller-ID-Number", ""),
                    h.get("Caller-Destination-Number", ""),
                )
                if len(self._legs) > 10_000:
                    self._legs.pop(next(iter(self._legs)))
                return None
            if len(self.calls.calls) >= MAX_CALLS and self._esl is not None:
                self._esl.drop(f"dropped: more than {MAX_CALLS} calls at once", bound=True)
                return None
            # FreeSWITCH's view: the leg from the phone is inbound, so the agent calls out.
            out = h.get("Call-Direction") == "inbound"
            other = h.get("Other-Leg-Unique-ID", "")
            return self.calls.start(
                Call(
                    uid,
                    extension,
                    Direction.OUT if out else Direction.IN,
                    CallState.DIALING if out else CallState.RINGING,
                    "" if out else h.get("Caller-Caller-ID-Name", ""),
                    h.get("Caller-Destination-Number", "")
                    if out
                    else h.get("Caller-Caller-ID-Number", ""),
                    h.get("Caller-Destination-Number", "") if out else self._called(h, other),
                    self._at(h),
                )
            )
        if name == "CHANNEL_ANSWER":
            call = self.calls.calls.get(uid)
            if call is not None and call.direction is Direction.IN:
                return self.calls.answer(uid, self._at(h))
            return None
        if name == "CHANNEL_BRIDGE":
            for leg in (uid, h.get("Other-Leg-Unique-ID", ""), h.get("Bridge-B-Unique-ID", "")):
                if leg in self.calls.calls:
                    return self.calls.answer(leg, self._at(h))
            return None
        if name in ("CHANNEL_HOLD", "CHANNEL_UNHOLD"):
            return self.calls.hold(uid, name == "CHANNEL_HOLD")
        if name == "CHANNEL_HANGUP_COMPLETE":
            self._legs.pop(uid, None)
            return self.calls.end(uid)
        return None

    async def registrations(self) -> list[PhoneSeen]:
        """The phones now, from ``sofia status profile <profile> reg``."""
        if self._esl is None:
            raise PhoneError("not connected")
        self.commands += 1
        try:
            answer = await self._esl.api(
                f"sofia status profile {self.phones.profile} reg", self.timeout
            )
        except CommandFailed:
            return []  # no mod_sofia: the phones stay as they were
        except EslError as exc:
            raise self._lost(f"sofia status: {exc}") from None
        return self.phones.listed(answer)

    async def waiting(self) -> list[WaitingNow]:
        """The callers waiting in each configured queue now, from ``callcenter_config
        queue list members`` (a queue that cannot be listed is left as it was)."""
        found = []
        for queue in self.config.queues:
            try:
                rows = parse_table(await self._api(f"queue list members {quoted(queue)}"))
            except PhoneError:
                if not self.connected():
                    raise
                continue
            found.append(waiting_now(queue, rows, now_ms()))
        return found

    async def live_calls(self) -> list[Call]:
        """The calls of the organisation's extensions now (after a reconnect), from
        ``show channels as json``: one row per leg, the extension's legs among them."""
        if self._esl is None:
            raise PhoneError("not connected")
        self.commands += 1
        try:
            answer = await self._esl.api("show channels as json", self.timeout)
        except CommandFailed as exc:
            raise PhoneError(f"show channels: {exc}") from None
        except EslError as exc:
            raise self._lost(f"show channels: {exc}") from None
        rows = channel_rows(answer)
        found = []
        for row in rows:
            extension = user_of(row.get("name", ""))
            if extension not in self.extensions:
                continue
            call = self._call_of(row, extension, rows)
            self.calls.calls[call.id] = call
            found.append(call)
        return found

    def _call_of(self, row: dict[str, str], extension: str, rows: list[dict[str, str]]) -> Call:
        # As for CHANNEL_CREATE: the leg from the phone is inbound, the agent calls out.
        out = row.get("direction") == "inbound"
        state = row.get("callstate", "")
        up = state in ("ACTIVE", "HELD", "UNHOLD")
        created = row.get("created_epoch", "")
        started = int(created) * 1000 if created.isdigit() else now_ms()
        if up:
            now = CallState.HOLD if state == "HELD" else CallState.TALKING
        else:
            now = CallState.DIALING if out else CallState.RINGING
        caller = row.get("cid_num", "")
        if out:
            name, number, dialled = "", row.get("dest", ""), row.get("dest", "")
        else:
            # The number called in on is the destination of the caller's own leg.
            trunk = (
                r.get("dest", "")
                for r in rows
                if r.get("direction") == "inbound"
                and r.get("cid_num") == caller
                and user_of(r.get("name", "")) not in self.extensions
            )
            name, number, dialled = row.get("cid_name", ""), caller, next(trunk, "")
        return Call(
            row.get("uuid", ""),
            extension,
            Direction.OUT if out else Direction.IN,
            now,
            name,
            number,
            dialled,
            started,
            started if up else None,  # FreeSWITCH lists no answer time: the start stands in
        )


def channel_rows(answer: str) -> list[dict[str, str]]:
    """The rows of ``show channels as json`` (``{"row_count": 0}`` when there are none);
    anything not shaped like them is skipped rather than trusted."""
    try:
        table = json.loads(answer)
    except ValueError:
        raise PhoneError("show channels: not JSON") from None
    rows = table.get("rows", []) if isinstance(table, dict) else []
    if not isinstance(rows, list):
        return []
    return [
        {str(k): str(v) for k, v in row.items()}
        for row in rows
        if isinstance(row, dict) and isinstance(row.get("uuid"), str) and row["uuid"]
    ]
