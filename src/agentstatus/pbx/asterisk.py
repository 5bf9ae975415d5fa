"""Asterisk over AMI: queue members from seats, pauses and channel events back.

A seat is an interface (``PJSIP/1001``) in every configured queue. Every command is
idempotent: ``QueueAdd`` answering "Already there" and ``QueueRemove`` answering "Not
there" are success, and a pause is set per queue whatever it was.

The members agentstatus made are remembered (:attr:`Asterisk.owned`, kept in the database
by the link): when the interface template or the queues change, the ones made under the
old settings are removed (:meth:`Asterisk.remove_stale`), and no other member ever is.

Channels: a ``Local/`` member is called through a Local channel of two halves,
``Local/1001@agents-00000001;1`` (the queue's leg to the member: the agent's call) and
``…;2`` (the same call running the member's dialplan), which share a ``Linkedid``. Only
the ``;1`` half is the agent's leg; the ``;2`` half is never a call of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import replace

from agentstatus.domain.calls import Call, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.pbx_config import PbxConfig, fill
from agentstatus.domain.phone_registration import PhoneSeen
from agentstatus.domain.queues import WaitingNow
from agentstatus.domain.seats import Seat, SeatState, channel_template, template_pattern
from agentstatus.outbound import OutboundPolicy
from agentstatus.pbx.ami import ActionFailed, AmiConnection, AmiError, Message
from agentstatus.pbx.asterisk_queues import QUEUE_EVENTS, caller_event, waiting_now
from agentstatus.pbx.connector import Connector
from agentstatus.pbx.phone import (
    Drift,
    Echoes,
    LoginRefused,
    PauseAtPhone,
    PhoneError,
    PhoneEvent,
    Reconciled,
    Resync,
    ends_batch,
)
from agentstatus.pbx.registrations import ASTERISK_EVENTS, AsteriskPhones

ALREADY_THERE = "Already there"
NOT_THERE = "Not there"
# A channel's name is its device and a sequence number: PJSIP/1001-0000002a.
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]+(?:;\d)?$")
# The second half of a Local channel: the member's dialplan, not a call of its own.
_LOCAL_SECOND_HALF = re.compile(r"^Local/.*;2$", re.IGNORECASE)
NO_SUCH_QUEUE = "No such queue"
FOLLOWED = frozenset(
    {
        "FullyBooted",
        "Reload",
        "Load",
        "QueueMemberAdded",
        "QueueMemberRemoved",
        "QueueMemberPause",
        "AgentRingNoAnswer",
        "Newchannel",
        "DialBegin",
        "Newstate",
        "BridgeEnter",
        "Hold",
        "Unhold",
        "Hangup",
        *QUEUE_EVENTS,
        *ASTERISK_EVENTS,
    }
)
"""The events :meth:`Asterisk.interpret` reads; the others (VarSet, Newexten, … most of a
call's events) are dropped as they are read, never queued."""
EVENTS = "call,agent,system"
BATCH = 200
"""Events taken at once when more are waiting: their calls are stored in one transaction."""
UP = "6"
RING = "4"
DOWN = "0"


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _duration_ms(text: str) -> int:
    """CoreShowChannel's ``Duration`` (HH:MM:SS) in milliseconds."""
    try:
        h, m, s = (int(p) for p in text.split(":"))
    except ValueError:
        return 0
    return ((h * 60 + m) * 60 + s) * 1000


class Asterisk(Connector):
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
        self.echoes = Echoes()
        self._ami: AmiConnection | None = None
        # Channels are named without the interface's options: Local/1001@from-queue/n
        # rings as Local/1001@from-queue-0000002a;1.
        self._interface = template_pattern(channel_template(config.interface))
        self._pending: dict[str, Call] = {}  # channels to an extension, not yet dialled
        # One call per extension per linked call: channel id -> (Linkedid, extension) and
        # back, for the channels followed.
        self._linked: dict[str, tuple[str, str]] = {}
        self._legs: dict[tuple[str, str], str] = {}
        self._mirror: dict[tuple[str, str], tuple[bool, str]] = {}
        """(queue, interface): (paused, reason), as last read and followed since."""
        self._mirrored = False
        self._boots_to_skip = 0
        self.owned: set[tuple[str, str]] = set()
        """(queue, interface) of the members agentstatus made (loaded by the link)."""
        self.owned_changes: list[tuple[bool, str, str]] = []
        """(made, queue, interface) since the link last stored them."""
        self.phones = AsteriskPhones(config, lambda: self.extensions)

    # -- the connection

    async def connect(self) -> None:
        where = self._where
        reader, writer = await self._open()
        ami = AmiConnection(reader, writer, wanted=FOLLOWED)
        try:
            await ami.start(self.timeout)
            assert self.config.username is not None
            # Only the classes followed: call (channels), agent (queue members), system
            # (FullyBooted, Reload); not dialplan (VarSet, Newexten: most of a call's events).
            await ami.action(
                "Login",
                {"Username": self.config.username, "Secret": self._secret, "Events": EVENTS},
                timeout=self.timeout,
            )
        except ActionFailed as exc:
            await ami.close()
            raise LoginRefused(f"{where} refused the login: {exc.message}") from None
        except (AmiError, OSError, TimeoutError) as exc:
            await ami.close()
            raise PhoneError(f"{where}: {exc or 'no banner'}") from None
        # Asterisk accepts logins while it boots; its queues are there once FullyBooted is
        # sent (at once when it has booted). A server that never sends it is read anyway.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout):
                await ami.booted.wait()
        # The FullyBooted of the login itself is no news (the link reconciles on connect).
        self._boots_to_skip = 1 if ami.booted.is_set() else 0
        self._ami = ami

    @property
    def dropped_because(self) -> str:
        """Why the connection was dropped, when a bound was passed (else empty)."""
        return self._ami.reason if self._ami is not None else ""

    def connected(self) -> bool:
        return self._ami is not None and not self._ami.closed.is_set()

    async def close(self) -> None:
        if self._ami is not None:
            await self._ami.close()

    async def _action(
        self, name: str, fields: dict[str, str], *, ok: str | None = None, listing: bool = False
    ) -> tuple[Message, list[Message]]:
        if self._ami is None:
            raise PhoneError("not connected")
        self.commands += 1
        try:
            return await self._ami.action(name, fields, timeout=self.timeout, list_answer=listing)
        except ActionFailed as exc:
            if ok is not None and ok in exc.message:
                return {}, []
            raise PhoneError(f"{name} {fields.get('Interface', '')}: {exc.message}") from None
        except AmiError as exc:
            raise PhoneError(self.dropped_because or str(exc)) from None
        except ValueError as exc:  # a value with a line break: never sent
            raise PhoneError(f"{name}: {exc}") from None

    # -- seats

    async def members(self) -> dict[tuple[str, str], tuple[bool, str]]:
        """(queue, interface) -> (paused, reason) of the configured queues."""
        found: dict[tuple[str, str], tuple[bool, str]] = {}
        for queue in self.config.queues:
            _, items = await self._action("QueueStatus", {"Queue": queue}, listing=True)
            for item in items:
                if item.get("Event") != "QueueMember" or item.get("Queue") != queue:
                    continue
                interface = item.get("Interface") or item.get("Location", "")
                reason = item.get("PausedReason", item.get("Reason", ""))
                found[(queue, interface)] = (_flag(item.get("Paused", "0")), reason)
        return found

    def _add_fields(self, seat: Seat, queue: str, paused: bool) -> dict[str, str]:
        fields = {
            "Queue": queue,
            "Interface": seat.key,
            "Paused": "true" if paused else "false",
            "MemberName": seat.member_name or seat.extension,
        }
        if paused:
            # Added paused with its reason in one action: never rung in between (Asterisk
            # 20+ reads Reason; an older one pauses without it and the reason is repaired
            # when its QueueMemberAdded shows none).
            fields["Reason"] = seat.reason
        if self.config.state_interface:
            fields["StateInterface"] = fill(
                self.config.state_interface, extension=seat.extension, user_id=seat.user_id
            )
        return fields

    async def _pause(self, seat: Seat, queue: str, paused: bool) -> None:
        fields = {"Interface": seat.key, "Queue": queue, "Paused": "true" if paused else "false"}
        if paused:
            fields["Reason"] = seat.reason
        self.echoes.asked(seat.key, paused, seat.reason)
        await self._action("QueuePause", fields)

    async def apply(self, seat: Seat) -> None:
        """Only what differs from the members as last read and since followed (the phone
        system's events keep them current; a stale entry costs one idempotent command)."""
        paused = seat.state is SeatState.PAUSED
        if seat.state is not SeatState.OUT:
            # What the phone system is asked to be, even when it is already (no echo then).
            self.echoes.asked(seat.key, paused, seat.reason)
        for queue in self.config.queues:
            have = self._mirror.get((queue, seat.key))
            if seat.state is SeatState.OUT:
                if have is not None or not self._mirrored:
                    await self._remove(queue, seat.key)
                self._mirror.pop((queue, seat.key), None)
                continue
            if have is None:
                self.echoes.asked(seat.key, paused, seat.reason)
                answer, _ = await self._action(
                    "QueueAdd", self._add_fields(seat, queue, paused), ok=ALREADY_THERE
                )
                if not answer:  # "Already there": as it was, which may not be as asked
                    await self._pause(seat, queue, paused)
                self._own(True, queue, seat.key)
            elif have != (paused, seat.reason if paused else ""):
                await self._pause(seat, queue, paused)
            self._mirror[(queue, seat.key)] = (paused, seat.reason if paused else "")

    def _own(self, made: bool, queue: str, interface: str) -> None:
        key = (queue, interface)
        if made != (key in self.owned):
            (self.owned.add if made else self.owned.discard)(key)
            self.owned_changes.append((made, queue, interface))

    async def _remove(self, queue: str, interface: str) -> None:
        await self._action("QueueRemove", {"Queue": queue, "Interface": interface}, ok=NOT_THERE)
        self._own(False, queue, interface)

    async def remove_stale(self, current: Callable[[str, str], bool]) -> int:
        """Remove the members agentstatus made that the settings no longer make (another
        interface template, a queue no longer configured); ``current(queue, interface)``
        says whether a member is one of the present settings'. Returns how many."""
        removed = 0
        for queue, interface in sorted(self.owned):
            if current(queue, interface):
                continue
            try:
                await self._action(
                    "QueueRemove", {"Queue": queue, "Interface": interface}, ok=NOT_THERE
                )
            except PhoneError as exc:
                if NO_SUCH_QUEUE not in str(exc):  # a queue that is gone took it along
                    raise
            self._own(False, queue, interface)
            self._mirror.pop((queue, interface), None)
            removed += 1
        return removed

    async def reconcile(self, desired: dict[str, Seat]) -> Reconciled:
        found = await self.members()
        self._mirror = {k: (p, r if p else "") for k, (p, r) in found.items()}
        self._mirrored = True
        for key in found:
            if key in self.owned:
                continue
            seat = desired.get(key[1])
            if seat is not None and seat.state is not SeatState.OUT:
                # Made by an earlier version, or restored by persistentmembers: ours.
                self._own(True, *key)
        repaired = 0
        # Who must take no calls first: after a restart, persistentmembers may have
        # restored a member unpaused whose agent went on a break meanwhile.
        order = {SeatState.PAUSED: 0, SeatState.OUT: 1, SeatState.TAKING: 2}
        for seat in sorted(desired.values(), key=lambda s: order[s.state]):
            for queue in self.config.queues:
                have = found.get((queue, seat.key))
                paused = seat.state is SeatState.PAUSED
                if seat.state is SeatState.OUT:
                    repaired += have is not None
                elif have is None or have[0] != paused or (paused and have[1] != seat.reason):
                    repaired += 1
            await self.apply(seat)
        return Reconciled(len(desired), repaired)

    def _follow_members(self, name: str, m: Message) -> Drift | None:
        """Keep the members current from the phone system's own events; a member added or
        removed is a possible drift, for the link to compare with presence."""
        queue = m.get("Queue", "")
        if queue not in self.config.queues:
            return None
        key = (queue, m.get("Interface") or m.get("Location", ""))
        before = self._mirror.get(key)
        if name == "QueueMemberRemoved":
            self._mirror.pop(key, None)
        elif name in ("QueueMemberAdded", "QueueMemberPause"):
            paused = _flag(m.get("Paused", "0"))
            reason = m.get("PausedReason", m.get("Reason", ""))
            self._mirror[key] = (paused, reason if paused else "")
        else:
            return None
        if name != "QueueMemberPause" and self._mirror.get(key) != before:
            return Drift(key[1])
        return None

    # -- events

    def extension_of(self, channel: str) -> str | None:
        if _LOCAL_SECOND_HALF.match(channel):
            return None
        device = _CHANNEL_SUFFIX.sub("", channel)
        match = self._interface.match(device)
        if match is None or "extension" not in match.groupdict():
            return None
        sip = match.group("extension")
        return sip if sip in self.extensions else None

    async def events(self) -> list[PhoneEvent] | None:
        if self._ami is None:
            return None
        queue = self._ami.events
        message = await queue.get()
        if message is None:
            return None
        found = self.interpret(message)
        for _ in range(BATCH):
            if queue.empty() or ends_batch(found):
                break
            message = queue.get_nowait()
            if message is None:
                queue.put_nowait(None)  # the end, for the next call
                break
            found.extend(self.interpret(message))
        return found

    def interpret(self, m: Message) -> list[PhoneEvent]:
        name = m.get("Event", "")
        if name in ASTERISK_EVENTS:
            return list(self.phones.interpret(name, m))
        if name.startswith("QueueMember"):
            drift = self._follow_members(name, m)
            if drift is not None:
                return [drift]
        if name == "FullyBooted":
            if self._boots_to_skip:
                self._boots_to_skip -= 1
                return []
            # Asterisk finished booting after the login: its state is new.
            return [Resync("Asterisk booted")]
        if name in ("Reload", "Load") and m.get("Module", "").startswith("app_queue"):
            return [Resync(f"app_queue: {name}")]
        if name == "QueueMemberPause":
            if m.get("Queue") not in self.config.queues:
                return []
            pause = PauseAtPhone(
                m.get("Interface") or m.get("Location", ""),
                _flag(m.get("Paused", "0")),
                m.get("PausedReason", m.get("Reason", "")),
            )
            return [] if self.echoes.is_echo(pause) else [pause]
        if name == "AgentRingNoAnswer":
            return self._ring_no_answer(m)
        if name in QUEUE_EVENTS:  # a caller in a queue (asterisk_queues.py)
            heard = caller_event(m, self.config.queues, now_ms())
            return [heard] if heard is not None else []
        found = self._call_event(name, m)
        return [found] if found is not None else []

    def _ring_no_answer(self, m: Message) -> list[PhoneEvent]:
        """app_queue's ``AgentRingNoAnswer``: a member of a queue followed was rung for
        ``RingTime`` ms and did not answer (or was busy or unavailable: app_queue reports
        those the same way)."""
        queue = m.get("Queue", "")
        if queue not in self.config.queues:
            return []
        ring = m.get("RingTime", "")
        return [
            MissedOffer(
                m.get("Interface") or m.get("Member", ""),
                queue,
                int(ring) if ring.isdigit() else None,
            )
        ]

    def _call_event(self, name: str, m: Message) -> Changed | None:
        at = now_ms()
        if name == "Newchannel":
            extension = self.extension_of(m.get("Channel", ""))
            if extension is None:
                return None
            uid = m.get("Uniqueid", "")
            if not self._new_leg(uid, m.get("Linkedid", ""), extension):
                return None  # another leg of a call the extension is already in
            if m.get("ChannelState") == RING and m.get("Exten"):  # the extension dials out
                return self.calls.start(
                    Call(
                        uid,
                        extension,
                        Direction.OUT,
                        CallState.DIALING,
                        "",
                        m.get("Exten", ""),
                        m.get("Exten", ""),
                        at,
                    )
                )
            # A channel to the extension: who calls, on which number, comes with DialBegin.
            self._pending[uid] = Call(
                uid,
                extension,
                Direction.IN,
                CallState.RINGING,
                _known(m.get("ConnectedLineName", "")),
                _known(m.get("ConnectedLineNum", "")),
                "",
                at,
            )
            if len(self._pending) > 10_000:
                self._pending.pop(next(iter(self._pending)))
            return None
        if name == "DialBegin":
            pending = self._pending.pop(m.get("DestUniqueid", ""), None)
            if pending is None:
                return None
            return self.calls.start(
                replace(
                    pending,
                    caller_name=_known(m.get("CallerIDName", "")) or pending.caller_name,
                    caller_number=_known(m.get("CallerIDNum", "")) or pending.caller_number,
                    dialled=m.get("Exten", ""),
                )
            )
        if name == "Newstate":
            uid = m.get("Uniqueid", "")
            pending = self._pending.pop(uid, None)
            if pending is not None:  # rung without a Dial (an Originate)
                started = self.calls.start(pending)
                if m.get("ChannelState") != UP:
                    return started
            call = self.calls.calls.get(uid)
            if call is not None and call.direction is Direction.IN and m.get("ChannelState") == UP:
                return self.calls.answer(uid, at)
            return None
        if name == "BridgeEnter":
            return self.calls.answer(m.get("Uniqueid", ""), at)
        if name in ("Hold", "Unhold"):
            return self.calls.hold(m.get("Uniqueid", ""), name == "Hold")
        if name == "Hangup":
            uid = m.get("Uniqueid", "")
            self._pending.pop(uid, None)
            link = self._linked.pop(uid, None)
            if link is not None and self._legs.get(link) == uid:
                del self._legs[link]
            return self.calls.end(uid)
        return None

    def _new_leg(self, uid: str, linkedid: str, extension: str) -> bool:
        """False when the extension already has a live leg in the same linked call."""
        if not linkedid:
            return True
        link = (linkedid, extension)
        other = self._legs.get(link)
        if (
            other is not None
            and other != uid
            and (other in self.calls.calls or other in self._pending)
        ):
            return False
        self._legs[link] = uid
        self._linked[uid] = link
        if len(self._linked) > 20_000:  # channels whose Hangup was never seen
            stale = next(iter(self._linked))
            self._legs.pop(self._linked.pop(stale), None)
        return True

    async def registrations(self) -> list[PhoneSeen]:
        """The phones now: ``DeviceStateList`` and ``PJSIPShowContacts`` (an Asterisk
        without one of them, or without PJSIP, answers an error: read without it)."""
        listed: list[list[Message]] = []
        for action in ("DeviceStateList", "PJSIPShowContacts"):
            try:
                listed.append((await self._action(action, {}, listing=True))[1])
            except PhoneError:
                if not self.connected():
                    raise
                listed.append([])
        devices, contacts = listed
        return self.phones.listed(devices, contacts)

    async def waiting(self) -> list[WaitingNow]:
        """The callers waiting in each configured queue now: ``QueueStatus``' ``QueueEntry``
        items (a queue Asterisk refuses to list is left as it was)."""
        found = []
        for queue in self.config.queues:
            try:
                _, items = await self._action("QueueStatus", {"Queue": queue}, listing=True)
            except PhoneError:
                if not self.connected():
                    raise
                continue
            found.append(waiting_now(queue, items, now_ms()))
        return found

    async def live_calls(self) -> list[Call]:
        """The calls of the organisation's extensions now (after a reconnect)."""
        _, items = await self._action("CoreShowChannels", {}, listing=True)
        at = now_ms()
        found = []
        for item in items:
            if item.get("Event") != "CoreShowChannel":
                continue
            extension = self.extension_of(item.get("Channel", ""))
            if extension is None:
                continue
            uid = item.get("Uniqueid", "")
            if not self._new_leg(uid, item.get("Linkedid", ""), extension):
                continue  # another leg of a call already listed for the extension
            up = item.get("ChannelState") == UP
            started = at - _duration_ms(item.get("Duration", ""))
            # The calling leg runs Dial; the called leg runs AppDial (or a queue's).
            out = item.get("Application") == "Dial"
            waiting = CallState.DIALING if out else CallState.RINGING
            call = Call(
                item.get("Uniqueid", ""),
                extension,
                Direction.OUT if out else Direction.IN,
                CallState.TALKING if up else waiting,
                _known(item.get("ConnectedLineName", "")),
                _known(item.get("ConnectedLineNum", "")),
                item.get("Exten", ""),
                started,
                started if up else None,
            )
            self.calls.calls[call.id] = call
            found.append(call)
        return found


def _known(value: str) -> str:
    """Asterisk writes ``<unknown>`` for an empty caller id."""
    return "" if value in ("<unknown>", "<Unknown>") else value
