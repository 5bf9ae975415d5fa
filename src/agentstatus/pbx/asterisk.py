"""Asterisk over AMI: queue members from seats, pauses and channel events back.

A seat is an interface (``PJSIP/1001``) in every configured queue. Every command is
idempotent: ``QueueAdd`` answering "Already there" and ``QueueRemove`` answering "Not
there" are success, and a pause is set per queue whatever it was.
"""

from __future__ import annotations

import re
from dataclasses import replace

from agentstatus.domain.clock import now_ms
from agentstatus.outbound import OutboundPolicy, OutboundRefused
from agentstatus.outbound.tcp import open_checked
from agentstatus.pbx.ami import ActionFailed, AmiConnection, AmiError, Message
from agentstatus.pbx.calls import Call, CallBook, CallState, Changed, Direction
from agentstatus.pbx.config import PbxConfig, fill
from agentstatus.pbx.phone import Echoes, PauseAtPhone, PhoneError, PhoneEvent, Reconciled
from agentstatus.pbx.seats import Seat, SeatState, template_pattern

ALREADY_THERE = "Already there"
NOT_THERE = "Not there"
# A channel's name is its device and a sequence number: PJSIP/1001-0000002a.
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]+(?:;\d)?$")
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


class Asterisk:
    def __init__(
        self,
        config: PbxConfig,
        secret: str,
        outbound: OutboundPolicy,
        *,
        timeout: float = 5.0,
        extensions: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self._secret = secret
        self._outbound = outbound
        self.timeout = timeout
        self.extensions = extensions
        """The organisation's extensions: channels of other devices are not followed."""
        self.commands = 0
        self.echoes = Echoes()
        self.calls = CallBook()
        self._ami: AmiConnection | None = None
        self._interface = template_pattern(config.interface)
        self._pending: dict[str, Call] = {}  # channels to an extension, not yet dialled
        self._mirror: dict[tuple[str, str], tuple[bool, str]] = {}
        """(queue, interface): (paused, reason), as last read and followed since."""
        self._mirrored = False

    # -- the connection

    async def connect(self) -> None:
        where = f"{self.config.host}:{self.config.port}"
        try:
            reader, writer = await open_checked(
                self.config.host, self.config.port, self._outbound, self.timeout
            )
        except OutboundRefused as exc:
            raise PhoneError(f"{where}: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise PhoneError(f"cannot connect to {where}: {exc or 'timeout'}") from None
        ami = AmiConnection(reader, writer)
        try:
            await ami.start(self.timeout)
            assert self.config.username is not None
            await ami.action(
                "Login",
                {"Username": self.config.username, "Secret": self._secret, "Events": "on"},
                timeout=self.timeout,
            )
        except ActionFailed as exc:
            await ami.close()
            raise PhoneError(f"{where} refused the login: {exc.message}") from None
        except (AmiError, OSError, TimeoutError) as exc:
            await ami.close()
            raise PhoneError(f"{where}: {exc or 'no banner'}") from None
        self._ami = ami

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
            raise PhoneError(str(exc)) from None
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
                    await self._action(
                        "QueueRemove", {"Queue": queue, "Interface": seat.key}, ok=NOT_THERE
                    )
                self._mirror.pop((queue, seat.key), None)
                continue
            if have is None:
                self.echoes.asked(seat.key, paused, seat.reason)
                await self._action(
                    "QueueAdd", self._add_fields(seat, queue, paused), ok=ALREADY_THERE
                )
                if paused:
                    await self._pause(seat, queue, paused)
            elif have != (paused, seat.reason if paused else ""):
                await self._pause(seat, queue, paused)
            self._mirror[(queue, seat.key)] = (paused, seat.reason if paused else "")

    async def reconcile(self, desired: dict[str, Seat]) -> Reconciled:
        found = await self.members()
        self._mirror = {k: (p, r if p else "") for k, (p, r) in found.items()}
        self._mirrored = True
        repaired = 0
        for seat in desired.values():
            for queue in self.config.queues:
                have = found.get((queue, seat.key))
                paused = seat.state is SeatState.PAUSED
                if seat.state is SeatState.OUT:
                    repaired += have is not None
                elif have is None or have[0] != paused or (paused and have[1] != seat.reason):
                    repaired += 1
            await self.apply(seat)
        return Reconciled(len(desired), repaired)

    def _follow_members(self, name: str, m: Message) -> None:
        """Keep the members current from the phone system's own events."""
        queue = m.get("Queue", "")
        if queue not in self.config.queues:
            return
        key = (queue, m.get("Interface") or m.get("Location", ""))
        if name == "QueueMemberRemoved":
            self._mirror.pop(key, None)
        elif name in ("QueueMemberAdded", "QueueMemberPause"):
            paused = _flag(m.get("Paused", "0"))
            reason = m.get("PausedReason", m.get("Reason", ""))
            self._mirror[key] = (paused, reason if paused else "")

    # -- events

    def extension_of(self, channel: str) -> str | None:
        device = _CHANNEL_SUFFIX.sub("", channel)
        match = self._interface.match(device)
        if match is None or "extension" not in match.groupdict():
            return None
        sip = match.group("extension")
        return sip if sip in self.extensions else None

    async def events(self) -> list[PhoneEvent] | None:
        if self._ami is None:
            return None
        message = await self._ami.events.get()
        if message is None:
            return None
        return self.interpret(message)

    def interpret(self, m: Message) -> list[PhoneEvent]:
        name = m.get("Event", "")
        if name.startswith("QueueMember"):
            self._follow_members(name, m)
        if name == "QueueMemberPause":
            if m.get("Queue") not in self.config.queues:
                return []
            pause = PauseAtPhone(
                m.get("Interface") or m.get("Location", ""),
                _flag(m.get("Paused", "0")),
                m.get("PausedReason", m.get("Reason", "")),
            )
            return [] if self.echoes.is_echo(pause) else [pause]
        found = self._call_event(name, m)
        return [found] if found is not None else []

    def _call_event(self, name: str, m: Message) -> Changed | None:
        at = now_ms()
        if name == "Newchannel":
            extension = self.extension_of(m.get("Channel", ""))
            if extension is None:
                return None
            uid = m.get("Uniqueid", "")
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
            self._pending.pop(m.get("Uniqueid", ""), None)
            return self.calls.end(m.get("Uniqueid", ""))
        return None

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
