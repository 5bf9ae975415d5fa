"""FreeSWITCH over the event socket: mod_callcenter agents from seats, status changes
and channel events back.

A seat is a mod_callcenter agent (``{user_id}``) with a contact (``user/{extension}``) and
a tier in every configured queue. FreeSWITCH has no pause reason: the status an agent is
on break for is agentstatus's. Every command is idempotent: an agent or tier that exists
already, or an agent that is not there when logging out, is success.
"""

from __future__ import annotations

import json

from agentstatus.domain.clock import now_ms
from agentstatus.outbound import OutboundPolicy, OutboundRefused
from agentstatus.outbound.tcp import open_checked
from agentstatus.pbx.calls import Call, CallBook, CallState, Changed, Direction
from agentstatus.pbx.config import PbxConfig, fill
from agentstatus.pbx.esl import CommandFailed, EslConnection, EslError, Headers
from agentstatus.pbx.phone import Echoes, PauseAtPhone, PhoneError, PhoneEvent, Reconciled
from agentstatus.pbx.seats import Seat, SeatState

AVAILABLE = "Available"
ON_BREAK = "On Break"
LOGGED_OUT = "Logged Out"
STATUS_OF = {SeatState.TAKING: AVAILABLE, SeatState.PAUSED: ON_BREAK, SeatState.OUT: LOGGED_OUT}
EVENTS = (
    "CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_BRIDGE"
    " CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE CUSTOM callcenter::info"
)
EXISTS = "already exist"
INVALID_AGENT = "Agent not found"


def quoted(value: str) -> str:
    """An argument as mod_callcenter splits them: single quotes keep spaces together."""
    if "'" in value or "\n" in value:
        raise PhoneError(f"{value[:40]!r} cannot be sent to mod_callcenter (a quote)")
    return f"'{value}'" if " " in value or not value else value


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


class FreeSwitch:
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
        self.commands = 0
        self.echoes = Echoes()
        self.calls = CallBook()
        self._esl: EslConnection | None = None
        self._seated: dict[str, str] = {}  # agents made this connection: their contact
        self._legs: dict[str, tuple[str, str]] = {}  # other legs: (caller, number called)

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
        esl = EslConnection(reader, writer)
        try:
            await esl.start(self._secret, self.timeout)
            await esl.subscribe(EVENTS, self.timeout)
        except CommandFailed:
            await esl.close()
            raise PhoneError(f"{where} refused the event socket password") from None
        except (EslError, OSError, TimeoutError) as exc:
            await esl.close()
            raise PhoneError(f"{where}: {exc or 'no greeting'}") from None
        self._esl = esl

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
            raise PhoneError(str(exc)) from None
        except ValueError as exc:  # a value with a line break: never sent
            raise PhoneError(str(exc)) from None

    def _contact(self, seat: Seat) -> str:
        return fill(self.config.contact, extension=seat.extension, user_id=seat.user_id)

    async def _status(self, seat: Seat) -> None:
        self.echoes.asked(seat.key, seat.state is SeatState.PAUSED, "")
        await self._api(
            f"agent set status {quoted(seat.key)} {quoted(STATUS_OF[seat.state])}",
            ok=INVALID_AGENT if seat.state is SeatState.OUT else None,
        )

    async def _seat_in(self, seat: Seat, tiers: set[tuple[str, str]] | None) -> int:
        """Agent, contact and tiers; how many were missing (all, without ``tiers``)."""
        name = quoted(seat.key)
        done = 0
        if tiers is None:
            await self._api(f"agent add {name} Callback", ok=EXISTS)
            await self._api(f"agent set contact {name} {quoted(self._contact(seat))}")
        for queue in self.config.queues:
            if tiers is None or (queue, seat.key) not in tiers:
                await self._api(f"tier add {quoted(queue)} {name} 1 1", ok=EXISTS)
                done += 1
        return done

    async def apply(self, seat: Seat) -> None:
        """The agent, its contact and tiers once per connection (or when the contact
        changes), then its status."""
        if seat.state is not SeatState.OUT and self._seated.get(seat.key) != self._contact(seat):
            await self._seat_in(seat, None)
            self._seated[seat.key] = self._contact(seat)
        await self._status(seat)

    async def reconcile(self, desired: dict[str, Seat]) -> Reconciled:
        agents = {r.get("name", ""): r for r in parse_table(await self._api("agent list"))}
        tiers = {
            (r.get("queue", ""), r.get("agent", ""))
            for r in parse_table(await self._api("tier list"))
        }
        repaired = 0
        for seat in desired.values():
            have = agents.get(seat.key)
            if seat.state is SeatState.OUT:
                if have is not None and have.get("status") != LOGGED_OUT:
                    await self._status(seat)
                    repaired += 1
                continue
            if have is None:
                await self.apply(seat)
                repaired += 1
                continue
            if have.get("contact") != self._contact(seat):
                await self._api(
                    f"agent set contact {quoted(seat.key)} {quoted(self._contact(seat))}"
                )
                repaired += 1
            repaired += await self._seat_in(seat, tiers)
            self._seated[seat.key] = self._contact(seat)
            if have.get("status") != STATUS_OF[seat.state]:
                await self._status(seat)
                repaired += 1
        return Reconciled(len(desired), repaired)

    # -- events

    async def events(self) -> list[PhoneEvent] | None:
        if self._esl is None:
            return None
        headers = await self._esl.events.get()
        if headers is None:
            return None
        return self.interpret(headers)

    def interpret(self, h: Headers) -> list[PhoneEvent]:
        name = h.get("Event-Name", "")
        if name == "CUSTOM":
            if h.get("Event-Subclass") != "callcenter::info":
                return []
            if h.get("CC-Action") != "agent-status-change":
                return []
            status = h.get("CC-Agent-Status", "")
            if status not in (AVAILABLE, ON_BREAK, "Available (On Demand)"):
                return []
            pause = PauseAtPhone(h.get("CC-Agent", ""), status == ON_BREAK, "")
            return [] if self.echoes.is_echo(pause) else [pause]
        found = self._call_event(name, h)
        return [found] if found is not None else []

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

    async def live_calls(self) -> list[Call]:
        """The calls of the organisation's extensions now (after a reconnect), from
        ``show channels as json``: one row per leg, the extension's legs among them."""
        if self._esl is None:
            raise PhoneError("not connected")
        self.commands += 1
        try:
            answer = await self._esl.api("show channels as json", self.timeout)
        except (CommandFailed, EslError) as exc:
            raise PhoneError(f"show channels: {exc}") from None
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
