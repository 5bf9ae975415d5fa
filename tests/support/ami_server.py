"""A loopback Asterisk Manager Interface (AMI) server for tests.

It speaks AMI over TCP on 127.0.0.1 the way Asterisk does (checked against a recording of a real
Asterisk, ``tests/pbx/recordings/asterisk-ami-recording.jsonl``: see ``tests/support/
ami_recording.py``): the banner line, ``Key: Value``
messages ended by an empty line, ``ActionID`` echoed on every response and on every event of a
list answer, and the real response texts of ``main/manager.c`` (``astman_send_response_full``,
``action_login``, ``action_logoff``, ``action_ping``, ``process_message``) and of
``apps/app_queue.c`` (``manager_add_queue_member``, ``manager_remove_queue_member``,
``manager_pause_queue_member``, ``manager_queues_status``). Queue and channel events carry the
field sets documented for Asterisk 18 (docs.asterisk.org, AMI_Events).

The server runs its own asyncio loop in a daemon thread so that synchronous tests can drive it;
every public method is thread-safe and returns copies. Besides the protocol it lets a test play
the phone system: drift made by someone else (``set_member``, silently; ``remove_at_phone``,
``add_at_phone``, with their events), faults (``set_delay``, ``fail_next``, ``drop_connections``,
``stop_listening``), a restart (``stop_asterisk``/``start_asterisk``: ``Shutdown``, and with
``persistentmembers`` the members and pauses as they were, however stale), calls (``call_in``,
``call_out``) and events replayed from the recording (``replay``: Local channels with their
``;1``/``;2`` halves, ``AgentCalled``/``AgentConnect``/``AgentComplete``, member events; the
replayed channels are listed by ``CoreShowChannels`` while they live).

As Asterisk does, a login is answered, then ``FullyBooted`` follows (``SuccessfulAuth`` to every
session); a wrong secret is answered "Authentication failed", the session is closed, and the
other sessions get ``InvalidPassword``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# ast_true() / ast_false() of main/utils.c: the words Asterisk accepts as booleans.
_TRUE_WORDS = frozenset({"yes", "true", "y", "t", "1", "on"})
_FALSE_WORDS = frozenset({"no", "false", "n", "f", "0", "off"})

_STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}

# Device states (include/asterisk/devicestate.h) as QueueMember's Status reports them.
_DEVICE_NOT_INUSE = 1
_DEVICE_INUSE = 2
_DEVICE_RINGING = 6
_DEVICE_ONHOLD = 8

Fields = list[tuple[str, str]]

# CoreShowChannel's fields of a channel, in Asterisk's order (after Event and ActionID).
_LISTED = (
    "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
    "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten",
    "Priority", "Uniqueid", "Linkedid", "Application", "ApplicationData",
)  # fmt: skip


@dataclass(frozen=True)
class Member:
    queue: str
    interface: str
    member_name: str = ""
    state_interface: str = ""
    paused: bool = False
    reason: str = ""


@dataclass(frozen=True)
class ReceivedAction:
    name: str
    fields: dict[str, str]
    at: float
    session: int


@dataclass
class _Entry:
    """A queue member with what Asterisk keeps beside the public view."""

    member: Member
    penalty: int = 0
    login_time: int = field(default_factory=lambda: int(time.time()))
    last_pause: int = 0


@dataclass
class _Session:
    id: int
    writer: asyncio.StreamWriter
    authenticated: bool = False
    events: bool = True
    classes: frozenset[str] | None = None
    """The event classes asked for at login (``Events: call,agent``); None: all."""
    outstanding: int = 0
    closed: bool = False


@dataclass
class _Channel:
    name: str
    uniqueid: str
    linkedid: str
    state: int
    caller_num: str
    caller_name: str
    connected_num: str
    connected_name: str
    context: str
    exten: str

    def fields(self, prefix: str = "") -> Fields:
        def shown(value: str) -> str:
            # Asterisk prints an absent caller id as "<unknown>".
            return value or "<unknown>"

        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(self.state)),
            (f"{prefix}ChannelStateDesc", _STATE_DESC.get(self.state, "Unknown")),
            (f"{prefix}CallerIDNum", shown(self.caller_num)),
            (f"{prefix}CallerIDName", shown(self.caller_name)),
            (f"{prefix}ConnectedLineNum", shown(self.connected_num)),
            (f"{prefix}ConnectedLineName", shown(self.connected_name)),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", "1"),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]


def _is_true(value: str) -> bool:
    return value.strip().lower() in _TRUE_WORDS


def _format(fields: Fields) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in fields).encode() + b"\r\n"


def _list_ack(id_field: Fields, message: str) -> bytes:
    # astman_send_listack(): Response, ActionID, EventList, then Message.
    return _format(
        [("Response", "Success"), *id_field, ("EventList", "start"), ("Message", message)]
    )


def _header(fields: dict[str, str], name: str) -> str:
    # astman_get_header() compares header names without regard to case.
    lowered = name.lower()
    for key, value in fields.items():
        if key.lower() == lowered:
            return value
    return ""


class AmiServer:
    def __init__(
        self,
        *,
        username: str = "agentstatus",
        secret: str = "ami-secret-0001",  # noqa: S107 - a loopback test fixture's secret
        queues: Sequence[str] = ("support",),
        banner: str = "Asterisk Call Manager/13.0.0",
        port: int = 0,
        persistent_members: bool = True,
    ) -> None:
        self._username = username
        self._secret = secret
        self._queues = list(queues)
        self._banner = banner
        self.port = port
        self._lock = threading.RLock()
        self._members: dict[tuple[str, str], _Entry] = {}
        self._actions: list[ReceivedAction] = []
        self._delay = 0.0
        self._failures: dict[str, tuple[int, str]] = {}
        self._refuse = False
        self._persistent = persistent_members
        self._booting = False
        self.booted_at: float | None = None
        """When the last start finished booting (monotonic)."""
        self.logins: list[float] = []
        """When each login was accepted (monotonic), in order."""
        self.login_attempts = 0
        self._replayed: dict[str, dict[str, str]] = {}  # live channels from replay()
        self._replay_started: dict[str, float] = {}
        self._accepted = 0
        self._max_outstanding = 0
        self._sessions: dict[int, _Session] = {}
        self._calls: list[Call] = []
        self._waiting: list[QueueCall] = []  # callers in the queues, in the order they joined
        self._epoch = int(time.time())
        self._uniqueid_counter = 0
        self._channel_counter = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._phones: dict[str, bool] = {}  # PJSIP endpoint: a contact registered

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> AmiServer:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="ami-server", daemon=True)
        self._thread.start()
        self.start_listening()
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is None:
            return
        self._run(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        loop.close()
        self._loop = None

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None, "use AmiServer as a context manager"
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _shutdown(self) -> None:
        await self._stop_listening()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    # -- looking -------------------------------------------------------------------------------

    def members(self) -> dict[tuple[str, str], Member]:
        with self._lock:
            return {key: entry.member for key, entry in self._members.items()}

    def actions(self, name: str | None = None) -> list[ReceivedAction]:
        with self._lock:
            return [
                replace(action, fields=dict(action.fields))
                for action in self._actions
                if name is None or action.name.lower() == name.lower()
            ]

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                recent = [(a.session, a.name, a.fields) for a in self.actions()[-20:]]
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or 'a condition'}; "
                    f"members={self.members()}; last actions={recent}"
                )
            time.sleep(0.01)

    @property
    def connections_accepted(self) -> int:
        with self._lock:
            return self._accepted

    @property
    def sessions(self) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.authenticated and not s.closed)

    @property
    def max_outstanding(self) -> int:
        with self._lock:
            return self._max_outstanding

    # -- drift ---------------------------------------------------------------------------------

    def set_member(
        self,
        queue: str,
        interface: str,
        member_name: str = "",
        state_interface: str = "",
        paused: bool = False,
        reason: str = "",
    ) -> None:
        with self._lock:
            key = self._key(queue, interface)
            member = Member(queue, interface, member_name, state_interface, paused, reason)
            self._members[key] = _Entry(member, last_pause=int(time.time()) if paused else 0)

    def remove_member(self, queue: str, interface: str) -> None:
        with self._lock:
            self._members.pop(self._key(queue, interface), None)

    # -- faults --------------------------------------------------------------------------------

    def set_delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def fail_next(self, action: str, count: int = 1, message: str = "Internal error") -> None:
        with self._lock:
            self._failures[action.lower()] = (count, message)

    def refuse_logins(self, refuse: bool) -> None:
        with self._lock:
            self._refuse = refuse

    def drop_connections(self) -> None:
        """The network drops every session (what was not yet sent is lost)."""
        self._run(self._drop_all(abort=True))

    def stop_listening(self) -> None:
        """Asterisk is gone from the network: no listener, every session dropped."""
        self._run(self._stop_listening(abort=True))

    def stop_asterisk(self, *, clean: bool = True) -> None:
        """Asterisk stops: ``Shutdown`` to every session when ``clean`` (SIGTERM; none on
        SIGKILL), then the sessions end and nobody is listening. Calls end with it. With
        ``persistentmembers`` the members are kept as they are now (astdb), else forgotten."""
        if clean:
            with self._lock:
                self._emit(
                    "Shutdown", "system,all", [("Shutdown", "Cleanly"), ("Restart", "False")]
                )
        self._run(self._stop_listening(abort=not clean))
        with self._lock:
            self._calls.clear()
            self._waiting.clear()
            self._replayed.clear()
            if not self._persistent:
                self._members.clear()

    def start_asterisk(self, *, boot_seconds: float = 0.0) -> None:
        """Asterisk started again (on the same port), its uptime from now. For
        ``boot_seconds`` it is still booting, as Asterisk accepts manager logins before its
        modules are loaded: a login gets no ``FullyBooted``, ``app_queue``'s actions are
        unknown, and at the end ``FullyBooted`` goes to every session (``booted_at``)."""
        with self._lock:
            self._epoch = int(time.time())
            self._booting = boot_seconds > 0
            self.booted_at = None if self._booting else time.monotonic()
        self._run(self._start_listening())
        if boot_seconds > 0:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._loop.call_later, boot_seconds, self._boot_done)

    def _boot_done(self) -> None:
        with self._lock:
            self._booting = False
            self.booted_at = time.monotonic()
            self._emit("FullyBooted", "system,all", self._boot_fields())

    def _boot_fields(self) -> Fields:
        uptime = str(int(time.time()) - self._epoch)
        return [("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")]

    def start_listening(self) -> None:
        self._run(self._start_listening())

    async def _start_listening(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self, *, abort: bool = False) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        await self._drop_all(abort=abort)

    async def _drop_all(self, *, abort: bool = False) -> None:
        """End every session: closed after what is queued for it has been sent, or, when
        ``abort`` (a lost connection), at once: a close waits for the peer to read what is
        queued, and a connection lost does not."""
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
            for session in sessions:
                session.closed = True
        for session in sessions:
            if abort:
                session.writer.transport.abort()
            else:
                session.writer.close()
        for session in sessions:
            with contextlib.suppress(OSError):
                await session.writer.wait_closed()

    # -- the phone side ------------------------------------------------------------------------

    def remove_at_phone(self, queue: str, interface: str) -> None:
        """``RemoveQueueMember`` in the dialplan, or ``queue remove member`` at the CLI."""
        with self._lock:
            key = self._find(queue, interface)
            if key is None:
                raise ValueError(f"{interface} is not in {queue}")
            entry = self._members.pop(key)
            self._emit("QueueMemberRemoved", "agent,all", self._member_fields(entry))

    def add_at_phone(
        self, queue: str, interface: str, member_name: str = "", paused: bool = False
    ) -> None:
        """``AddQueueMember`` in the dialplan (no reason: as the recording shows)."""
        with self._lock:
            member = Member(self._queue_name(queue) or queue, interface, member_name, "", paused)
            entry = _Entry(member, last_pause=int(time.time()) if paused else 0)
            self._members[(member.queue, interface)] = entry
            self._emit("QueueMemberAdded", "agent,all", self._member_fields(entry))

    def replay(self, messages: Sequence[dict[str, str]]) -> None:
        """Send recorded events, in order, as this Asterisk's own: member events change the
        members, channel events the channels ``CoreShowChannels`` lists."""
        with self._lock:
            for message in messages:
                self._replay_one(message)

    def _replay_one(self, message: dict[str, str]) -> None:
        name = message.get("Event", "")
        fields = [(k, v) for k, v in message.items() if k not in ("Event", "Privilege")]
        queue, interface = message.get("Queue", ""), message.get("Interface", "")
        if name == "QueueMemberRemoved":
            self._members.pop(self._key(queue, interface), None)
        elif name in ("QueueMemberAdded", "QueueMemberPause"):
            paused = message.get("Paused") == "1"
            member = Member(
                self._queue_name(queue) or queue,
                interface,
                message.get("MemberName", ""),
                ""
                if message.get("StateInterface") == interface
                else message.get("StateInterface", ""),
                paused,
                message.get("PausedReason", "") if paused else "",
            )
            self._members[self._key(queue, interface)] = _Entry(member)
        uid = message.get("Uniqueid", "")
        if name == "Newchannel":
            self._replayed[uid] = dict(message)
            self._replay_started[uid] = time.monotonic()
        elif name in ("Newstate", "Newexten") and uid in self._replayed:
            channel = self._replayed[uid]
            for key in ("ChannelState", "ChannelStateDesc", "Exten", "Context"):
                if key in message:
                    channel[key] = message[key]
            if name == "Newexten":
                channel["Application"] = message.get("Application", "")
                channel["ApplicationData"] = message.get("AppData", "")
        elif name == "BridgeEnter" and uid in self._replayed:
            self._replayed[uid]["BridgeId"] = message.get("BridgeUniqueid", "")
        elif name == "Hangup":
            self._replayed.pop(uid, None)
            self._replay_started.pop(uid, None)
        self._emit(name, message.get("Privilege", "call,all"), fields)

    def pause_at_phone(
        self, interface: str, paused: bool, reason: str = "", queue: str | None = None
    ) -> None:
        with self._lock:
            if not self._pause(interface, paused, reason, queue or ""):
                raise ValueError(f"{interface} is in no queue{f' {queue}' if queue else ''}")

    def call_in(
        self,
        extension: str,
        *,
        caller_num: str,
        caller_name: str,
        did: str,
        technology: str = "PJSIP",
    ) -> Call:
        with self._lock:
            u1 = self._next_uniqueid()
            trunk = _Channel(
                f"{technology}/trunk-{self._next_channel()}",
                u1, u1, 4, caller_num, caller_name, "", "", "from-trunk", did,
            )  # fmt: skip
            u2 = self._next_uniqueid()
            ext = _Channel(
                f"{technology}/{extension}-{self._next_channel()}",
                u2, u1, 0, extension, "", caller_num, caller_name, "from-internal", extension,
            )  # fmt: skip
            call = Call(self, source=trunk, dest=ext, extension_side=ext, dial_string=extension)
            self._calls.append(call)
            call._begin()
            return call

    def call_out(self, extension: str, *, dialled: str, technology: str = "PJSIP") -> Call:
        with self._lock:
            u1 = self._next_uniqueid()
            ext = _Channel(
                f"{technology}/{extension}-{self._next_channel()}",
                u1, u1, 4, extension, "", "", "", "from-internal", dialled,
            )  # fmt: skip
            u2 = self._next_uniqueid()
            trunk = _Channel(
                f"{technology}/trunk-{self._next_channel()}",
                u2, u1, 0, extension, "", dialled, "", "from-internal", dialled,
            )  # fmt: skip
            dial_string = f"trunk/{dialled}"
            call = Call(self, source=ext, dest=trunk, extension_side=ext, dial_string=dial_string)
            self._calls.append(call)
            call._begin()
            return call

    def queue_call(
        self,
        queue: str,
        interface: str | None,
        *,
        caller_num: str,
        caller_name: str = "",
        did: str = "",
        timeout: float | None = None,
        waited: float = 0.0,
    ) -> QueueCall:
        """A caller waiting in ``queue`` (answered by Queue()) and app_queue ringing the
        member ``interface``: ``QueueCallerJoin``, then the member's channel, ``AgentCalled``
        and ``DialBegin``. With ``timeout`` (queues.conf's ``timeout``), a ring nobody
        answers ends after that many seconds with ``AgentRingNoAnswer`` as app_queue's
        ring_entry/rna do (else ``ring_out()`` ends it). Without ``interface`` the caller
        waits with nobody rung (every member paused, as in the recording's abandoned call).
        ``QueueStatus`` lists the caller as a ``QueueEntry`` while it waits; ``waited``: it
        joined that many seconds ago."""
        with self._lock:
            canonical = self._queue_name(queue)
            if canonical is None:
                raise ValueError(f"no queue {queue}")
            member: Member | None = None
            if interface is not None:
                found = self._find(queue, interface)
                if found is None:
                    raise ValueError(f"{interface} is not a member of {queue}")
                member = self._members[found].member
            u1 = self._next_uniqueid()
            caller = _Channel(
                f"PJSIP/trunk-{self._next_channel()}",
                u1, u1, 6, caller_num, caller_name, "", "", "from-trunk", did,
            )  # fmt: skip
            call = QueueCall(self, caller, canonical, member, timeout, waited)
            call._join()
            return call

    def waiting(self, queue: str) -> list[str]:
        """The Uniqueids of the callers waiting in ``queue``, in order."""
        with self._lock:
            return [c.caller_uniqueid for c in self._waiting if c._queue == queue]

    # -- internals: state ----------------------------------------------------------------------

    def _queue_name(self, queue: str) -> str | None:
        # Asterisk finds queues by name without regard to case.
        return next((q for q in self._queues if q.lower() == queue.lower()), None)

    def _find(self, queue: str, interface: str) -> tuple[str, str] | None:
        # ... and members by interface without regard to case (member_cmp_fn).
        for key in self._members:
            if key[0].lower() == queue.lower() and key[1].lower() == interface.lower():
                return key
        return None

    def _key(self, queue: str, interface: str) -> tuple[str, str]:
        return self._find(queue, interface) or (self._queue_name(queue) or queue, interface)

    def _next_uniqueid(self) -> str:
        self._uniqueid_counter += 1
        return f"{self._epoch}.{self._uniqueid_counter}"

    def _next_channel(self) -> str:
        self._channel_counter += 1
        return f"{self._channel_counter:08x}"

    def _device_state(self, state_interface: str) -> tuple[int, int]:
        """(Status, InCall) of a device from the live calls, as devicestate would report."""
        for call in self._calls:
            if call._extension_side.name.lower().startswith(f"{state_interface.lower()}-"):
                if call._held:
                    return _DEVICE_ONHOLD, 1
                if call._answered:
                    return _DEVICE_INUSE, 1
                return _DEVICE_RINGING, 0
        return _DEVICE_NOT_INUSE, 0

    def _member_fields(self, entry: _Entry) -> Fields:
        member = entry.member
        state_interface = member.state_interface or member.interface
        status, in_call = self._device_state(state_interface)
        return [
            ("Queue", member.queue),
            ("MemberName", member.member_name or member.interface),
            ("Interface", member.interface),
            ("StateInterface", state_interface),
            ("Membership", "dynamic"),
            ("Penalty", str(entry.penalty)),
            ("CallsTaken", "0"),
            ("LastCall", "0"),
            ("LastPause", str(entry.last_pause)),
            ("LoginTime", str(entry.login_time)),
            ("InCall", str(in_call)),
            ("Status", str(status)),
            ("Paused", "1" if member.paused else "0"),
            ("PausedReason", member.reason),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ]

    def _pause(self, interface: str, paused: bool, reason: str, queue: str) -> bool:
        """set_member_paused(): every matching member, an event each; False when none."""
        found = False
        for key, entry in self._members.items():
            if key[1].lower() != interface.lower():
                continue
            if queue and key[0].lower() != queue.lower():
                continue
            found = True
            entry.member = replace(entry.member, paused=paused, reason=reason if paused else "")
            if paused:
                entry.last_pause = int(time.time())
            self._emit("QueueMemberPause", "agent,all", self._member_fields(entry))
        return found

    def _emit(self, event: str, privilege: str, fields: Fields) -> None:
        """Queue an event for every events-on session, in the order the changes were made."""
        data = _format([("Event", event), ("Privilege", privilege), *fields])
        if self._loop is not None:
            classes = frozenset(privilege.split(",")) - {"all"}
            self._loop.call_soon_threadsafe(self._broadcast, data, classes)

    def _broadcast(self, data: bytes, classes: frozenset[str] = frozenset()) -> None:
        with self._lock:
            targets = [
                s
                for s in self._sessions.values()
                if s.authenticated
                and s.events
                and (s.classes is None or not classes or s.classes & classes)
            ]
        for session in targets:
            if not session.writer.is_closing():
                session.writer.write(data)

    # -- internals: the protocol ---------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._accepted += 1
            session = _Session(self._accepted, writer)
            self._sessions[session.id] = session
        inbox: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        worker = asyncio.create_task(self._work(session, inbox))
        try:
            writer.write(f"{self._banner}\r\n".encode())
            await self._read(session, reader, inbox)
        except (ConnectionError, OSError):
            pass
        finally:
            await inbox.put(None)
            await worker
            with self._lock:
                session.closed = True
                self._sessions.pop(session.id, None)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _read(
        self,
        session: _Session,
        reader: asyncio.StreamReader,
        inbox: asyncio.Queue[dict[str, str] | None],
    ) -> None:
        # Reading runs ahead of answering so that a client which sends before it has its answer
        # shows up in max_outstanding.
        fields: dict[str, str] = {}
        while not session.closed:
            line = await reader.readline()
            if not line:
                return
            text = line.decode(errors="replace").rstrip("\r\n")
            if text:
                key, sep, value = text.partition(":")
                if sep:
                    fields[key.strip()] = value.strip()
                continue
            if not fields:
                continue
            received = ReceivedAction(
                _header(fields, "Action"), fields, time.monotonic(), session.id
            )
            with self._lock:
                self._actions.append(received)
                session.outstanding += 1
                self._max_outstanding = max(self._max_outstanding, session.outstanding)
            await inbox.put(fields)
            fields = {}

    async def _work(self, session: _Session, inbox: asyncio.Queue[dict[str, str] | None]) -> None:
        while (fields := await inbox.get()) is not None:
            with self._lock:
                delay = self._delay
            if delay:
                await asyncio.sleep(delay)
            if session.closed:
                continue
            answer, close = self._answer(session, fields)
            session.writer.write(answer)
            with self._lock:
                session.outstanding -= 1
            if close:
                with self._lock:
                    session.closed = True
                    self._sessions.pop(session.id, None)
                session.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await session.writer.drain()

    def _answer(self, session: _Session, fields: dict[str, str]) -> tuple[bytes, bool]:
        """The bytes to write for one action, and whether the connection closes after them."""
        action = _header(fields, "Action")
        action_id = _header(fields, "ActionID")
        id_field: Fields = [("ActionID", action_id)] if action_id else []

        def response(kind: str, message: str | None, *extra: tuple[str, str]) -> bytes:
            fields_out: Fields = [("Response", kind), *id_field]
            if message is not None:
                fields_out.append(("Message", message))
            return _format([*fields_out, *extra])

        def error(message: str) -> tuple[bytes, bool]:
            return response("Error", message), False

        name = action.lower()
        with self._lock:
            if not name:
                return error("Missing action in request")
            # process_message(): before Login only Login, Logoff and Challenge are let through.
            if not session.authenticated and name not in {"login", "logoff", "challenge"}:
                return error("Permission denied")
            failure = self._failures.get(name)
            if failure is not None:
                count, message = failure
                if count <= 1:
                    del self._failures[name]
                else:
                    self._failures[name] = (count - 1, message)
                return error(message)
            if name == "login":
                return self._login(session, fields, response)
            if name == "logoff":
                return response("Goodbye", "Thanks for all the fish."), True
            if name == "ping":
                stamp = f"{time.time():.6f}"
                return response("Success", None, ("Ping", "Pong"), ("Timestamp", stamp)), False
            if self._booting and name.startswith(("queue", "coreshow")):
                return error("Invalid/unknown command")  # app_queue is not loaded yet
            if name == "queueadd":
                return self._queue_add(fields, response), False
            if name == "queueremove":
                return self._queue_remove(fields, response), False
            if name == "queuepause":
                return self._queue_pause(fields, response), False
            if name == "queuestatus":
                return self._queue_status(fields, id_field), False
            if name == "coreshowchannels":
                return self._core_show_channels(id_field), False
            if name == "pjsipshowcontacts":
                return self._show_contacts(id_field), False
            if name == "devicestatelist":
                return self._device_states(id_field), False
            return error("Invalid/unknown command")

    def _login(
        self, session: _Session, fields: dict[str, str], response: Callable[..., bytes]
    ) -> tuple[bytes, bool]:
        if session.authenticated:
            return response("Success", "Already authenticated"), False
        self.login_attempts += 1
        good = (
            not self._refuse
            and _header(fields, "Username") == self._username
            and _header(fields, "Secret") == self._secret
        )
        if not good:
            # action_login() answers and then ends the session; the security event goes to
            # the others (a NOTICE in Asterisk's log: what fail2ban counts).
            self._emit("InvalidPassword", "security,all", self._security(session, fields))
            return response("Error", "Authentication failed"), True
        session.authenticated = True
        self.logins.append(time.monotonic())
        # set_eventmask(): "off" (any ast_false word) turns events off, a true word on, and
        # a list of classes ("call,agent,system") asks for those classes only.
        mask = _header(fields, "Events").strip().lower()
        session.events = mask not in _FALSE_WORDS
        if mask and mask not in _TRUE_WORDS and session.events:
            session.classes = frozenset(c.strip() for c in mask.split(","))
        answer = response("Success", "Authentication accepted")
        if (
            session.events
            and not self._booting
            and (session.classes is None or "system" in session.classes)
        ):
            answer += _format(
                [("Event", "FullyBooted"), ("Privilege", "system,all"), *self._boot_fields()]
            )
        self._emit("SuccessfulAuth", "security,all", self._security(session, fields))
        return answer, False

    def _security(self, session: _Session, fields: dict[str, str]) -> Fields:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
        return [
            ("EventTV", stamp),
            ("Severity", "Informational" if session.authenticated else "Error"),
            ("Service", "AMI"),
            ("EventVersion", "1" if session.authenticated else "2"),
            ("AccountID", _header(fields, "Username")),
            ("SessionID", f"0x{session.id:012x}"),
            ("LocalAddress", f"IPV4/TCP/127.0.0.1/{self.port}"),
            ("RemoteAddress", "IPV4/TCP/127.0.0.1/0"),
            *([("UsingPassword", "0")] if session.authenticated else []),
            ("SessionTV", stamp),
        ]

    def _queue_add(self, fields: dict[str, str], response: Callable[..., bytes]) -> bytes:
        queue, interface = _header(fields, "Queue"), _header(fields, "Interface")
        if not queue:
            return response("Error", "'Queue' not specified.")
        if not interface:
            return response("Error", "'Interface' not specified.")
        canonical = self._queue_name(queue)
        if canonical is None:
            return response("Error", "Unable to add interface to queue: No such queue")
        if self._find(canonical, interface) is not None:
            return response("Error", "Unable to add interface: Already there")
        try:
            penalty = max(int(_header(fields, "Penalty") or 0), 0)
        except ValueError:
            penalty = 0
        paused = _is_true(_header(fields, "Paused"))
        member = Member(
            canonical,
            interface,
            _header(fields, "MemberName"),
            _header(fields, "StateInterface"),
            paused,
            _header(fields, "Reason") if paused else "",
        )
        entry = _Entry(member, penalty, last_pause=int(time.time()) if paused else 0)
        self._members[(canonical, interface)] = entry
        self._emit("QueueMemberAdded", "agent,all", self._member_fields(entry))
        return response("Success", "Added interface to queue")

    def _queue_remove(self, fields: dict[str, str], response: Callable[..., bytes]) -> bytes:
        queue, interface = _header(fields, "Queue"), _header(fields, "Interface")
        if not queue or not interface:
            return response("Error", "Need 'Queue' and 'Interface' parameters.")
        if self._queue_name(queue) is None:
            return response("Error", "Unable to remove interface from queue: No such queue")
        key = self._find(queue, interface)
        if key is None:
            return response("Error", "Unable to remove interface: Not there")
        entry = self._members.pop(key)
        self._emit("QueueMemberRemoved", "agent,all", self._member_fields(entry))
        return response("Success", "Removed interface from queue")

    def _queue_pause(self, fields: dict[str, str], response: Callable[..., bytes]) -> bytes:
        interface, paused_s = _header(fields, "Interface"), _header(fields, "Paused")
        if not interface or not paused_s:
            return response("Error", "Need 'Interface' and 'Paused' parameters.")
        paused = _is_true(paused_s)
        if not self._pause(interface, paused, _header(fields, "Reason"), _header(fields, "Queue")):
            return response("Error", "Interface not found")
        return response(
            "Success",
            "Interface paused successfully" if paused else "Interface unpaused successfully",
        )

    def _queue_status(self, fields: dict[str, str], id_field: Fields) -> bytes:
        queue_filter, member_filter = _header(fields, "Queue"), _header(fields, "Member")
        out = [_list_ack(id_field, "Queue status will follow")]
        items = 0
        for queue in self._queues:
            if queue_filter and queue.lower() != queue_filter.lower():
                continue
            callers = [c for c in self._waiting if c._queue == queue]
            out.append(
                _format(
                    [
                        ("Event", "QueueParams"),
                        ("Queue", queue),
                        ("Max", "0"),
                        ("Strategy", "ringall"),
                        ("Calls", str(len(callers))),
                        ("Holdtime", "0"),
                        ("TalkTime", "0"),
                        ("Completed", "0"),
                        ("Abandoned", "0"),
                        ("ServiceLevel", "0"),
                        ("ServicelevelPerf", "0.0"),
                        ("ServicelevelPerf2", "0.0"),
                        ("Weight", "0"),
                        *id_field,
                    ]
                )
            )
            items += 1
            for (member_queue, _), entry in self._members.items():
                member = entry.member
                if member_queue != queue:
                    continue
                name = member.member_name or member.interface
                if member_filter and member_filter not in (member.interface, name):
                    continue
                # manager_queues_status() names the fields Name and Location; newer clients
                # read MemberName and Interface, so both spellings are sent.
                member_fields = self._member_fields(entry)
                out.append(
                    _format(
                        [
                            ("Event", "QueueMember"),
                            member_fields[0],
                            ("Name", name),
                            member_fields[1],
                            ("Location", member.interface),
                            *member_fields[2:],
                            *id_field,
                        ]
                    )
                )
                items += 1
            now = time.monotonic()
            for position, caller in enumerate(callers, start=1):
                # manager_queues_status(): the fields of the QueueEntry event (Asterisk 16.24+,
                # docs.asterisk.org AMI_Events/QueueEntry); an absent caller id is "unknown".
                channel = caller._source
                out.append(
                    _format(
                        [
                            ("Event", "QueueEntry"),
                            ("Queue", queue),
                            ("Position", str(position)),
                            ("Channel", channel.name),
                            ("Uniqueid", channel.uniqueid),
                            ("CallerIDNum", channel.caller_num or "unknown"),
                            ("CallerIDName", channel.caller_name or "unknown"),
                            ("ConnectedLineNum", channel.connected_num or "unknown"),
                            ("ConnectedLineName", channel.connected_name or "unknown"),
                            ("Wait", str(int(now - caller._joined_at))),
                            ("Priority", "0"),
                            *id_field,
                        ]
                    )
                )
                items += 1
        out.append(
            _format(
                [
                    ("Event", "QueueStatusComplete"),
                    *id_field,
                    ("EventList", "Complete"),
                    ("ListItems", str(items)),
                ]
            )
        )
        return b"".join(out)

    def _core_show_channels(self, id_field: Fields) -> bytes:
        out = [_list_ack(id_field, "Channels will follow")]
        items = 0
        for call in self._calls:
            for channel in call._channels():
                dialling = channel is call._source
                app = ("Dial", call._dial_string) if dialling else ("AppDial", "(Outgoing Line)")
                listed = [
                    ("Event", "CoreShowChannel"),
                    *id_field,
                    *channel.fields(),
                    ("Application", app[0]),
                    ("ApplicationData", app[1]),
                    ("Duration", "00:00:00"),
                    ("BridgeId", call._bridge_id if call._bridged else ""),
                ]
                out.append(_format(listed))
                items += 1
        for uid, channel in self._replayed.items():
            seconds = int(time.monotonic() - self._replay_started.get(uid, time.monotonic()))
            listed = [
                ("Event", "CoreShowChannel"),
                *id_field,
                *((key, channel.get(key, "")) for key in _LISTED),
                ("Duration", time.strftime("%H:%M:%S", time.gmtime(seconds))),
                ("BridgeId", channel.get("BridgeId", "")),
            ]
            out.append(_format(listed))
            items += 1
        out.append(
            _format(
                [
                    ("Event", "CoreShowChannelsComplete"),
                    *id_field,
                    ("EventList", "Complete"),
                    ("ListItems", str(items)),
                ]
            )
        )
        return b"".join(out)

    # -- phones (res_pjsip): no recording has them; modelled from the Asterisk 20 AMI
    # documentation of ContactStatus, PeerStatus, DeviceStateChange, PJSIPShowContacts
    # (ContactList) and DeviceStateList.

    def register_phone(self, endpoint: str) -> None:
        """A PJSIP phone registers: its contact is created and qualified, the endpoint
        becomes reachable and its device NOT_INUSE."""
        with self._lock:
            self._phones[endpoint] = True
        self._emit("ContactStatus", "system,all", self._contact_status(endpoint, "Created"))
        self._emit("ContactStatus", "system,all", self._contact_status(endpoint, "Reachable"))
        self._emit("PeerStatus", "system,all", self._peer_status(endpoint, "Reachable"))
        self._emit("DeviceStateChange", "call,all", self._device(endpoint, "NOT_INUSE"))

    def unregister_phone(self, endpoint: str) -> None:
        """A PJSIP phone unregisters (or its registration expires): the contact is removed,
        the endpoint unreachable and its device UNAVAILABLE."""
        with self._lock:
            self._phones[endpoint] = False
        self._emit("ContactStatus", "system,all", self._contact_status(endpoint, "Removed"))
        self._emit("PeerStatus", "system,all", self._peer_status(endpoint, "Unreachable"))
        self._emit("DeviceStateChange", "call,all", self._device(endpoint, "UNAVAILABLE"))

    def set_phone(self, endpoint: str, registered: bool) -> None:
        """The phone's state as Asterisk has it, without an event (before a connect)."""
        with self._lock:
            self._phones[endpoint] = registered

    @staticmethod
    def _uri(endpoint: str) -> str:
        return f"sip:{endpoint}@192.0.2.50:5060"

    def _contact_status(self, endpoint: str, status: str) -> Fields:
        return [
            ("URI", self._uri(endpoint)),
            ("ContactStatus", status),
            ("AOR", endpoint),
            ("EndpointName", endpoint),
            ("RoundtripUsec", "0" if status in ("Created", "Removed") else "1532"),
            ("UserAgent", "Yealink SIP-T46S 66.86.0.15"),
            ("RegExpire", str(int(time.time()) + 3600)),
            ("ViaAddress", "192.0.2.50:5060"),
            ("CallID", f"{endpoint}-reg-0001"),
        ]

    @staticmethod
    def _peer_status(endpoint: str, status: str) -> Fields:
        return [("ChannelType", "PJSIP"), ("Peer", f"PJSIP/{endpoint}"), ("PeerStatus", status)]

    @staticmethod
    def _device(endpoint: str, state: str) -> Fields:
        return [("Device", f"PJSIP/{endpoint}"), ("State", state)]

    def _show_contacts(self, id_field: Fields) -> bytes:
        out = [
            _list_ack(id_field, "A listing of Contacts follows, presented as ContactList events")
        ]
        registered = [e for e, up in self._phones.items() if up]
        for endpoint in registered:
            uri = self._uri(endpoint)
            out.append(
                _format(
                    [
                        ("Event", "ContactList"),
                        *id_field,
                        ("ObjectType", "contact"),
                        ("ObjectName", f"{endpoint};@8d7e1b2c"),
                        ("ViaAddr", "192.0.2.50"),
                        ("ViaPort", "5060"),
                        ("QualifyTimeout", "3.000000"),
                        ("CallId", f"{endpoint}-reg-0001"),
                        ("RegServer", ""),
                        ("PruneOnBoot", "false"),
                        ("Path", ""),
                        ("Endpoint", endpoint),
                        ("AuthenticateQualify", "false"),
                        ("Uri", uri),
                        ("QualifyFrequency", "60"),
                        ("UserAgent", "Yealink SIP-T46S 66.86.0.15"),
                        ("ExpirationTime", str(int(time.time()) + 3600)),
                        ("OutboundProxy", ""),
                        ("Status", "Reachable"),
                        ("RoundtripUsec", "1532"),
                    ]
                )
            )
        out.append(self._complete("ContactListComplete", id_field, len(registered)))
        return b"".join(out)

    def _device_states(self, id_field: Fields) -> bytes:
        out = [_list_ack(id_field, "Device State Changes will follow")]
        for endpoint, up in self._phones.items():
            state = "NOT_INUSE" if up else "UNAVAILABLE"
            out.append(
                _format([("Event", "DeviceStateChange"), *id_field, *self._device(endpoint, state)])
            )
        out.append(self._complete("DeviceStateListComplete", id_field, len(self._phones)))
        return b"".join(out)

    @staticmethod
    def _complete(event: str, id_field: Fields, items: int) -> bytes:
        return _format(
            [("Event", event), *id_field, ("EventList", "Complete"), ("ListItems", str(items))]
        )


class Call:
    """One call between an extension and the trunk; its methods emit Asterisk 18's events."""

    def __init__(
        self,
        server: AmiServer,
        *,
        source: _Channel,
        dest: _Channel,
        extension_side: _Channel,
        dial_string: str,
    ) -> None:
        self._server = server
        self._source = source  # the channel running Dial()
        self._dest = dest  # the channel Dial() created
        self._extension_side = extension_side
        self._dial_string = dial_string
        self._answered = False
        self._bridged = False
        self._held = False
        self._hung_up = False
        self._bridge_id = str(uuid.uuid4())
        self.extension_channel = extension_side.name
        self.extension_uniqueid = extension_side.uniqueid

    def _channels(self) -> list[_Channel]:
        return [self._source, self._dest]

    def _emit(self, event: str, fields: Fields) -> None:
        self._server._emit(event, "call,all", fields)

    def _dial(self, event: str, *extra: tuple[str, str]) -> None:
        self._emit(event, [*self._source.fields(), *self._dest.fields("Dest"), *extra])

    def _bridge_fields(self, count: int) -> Fields:
        return [
            ("BridgeUniqueid", self._bridge_id),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]

    def _set_state(self, channel: _Channel, state: int) -> None:
        channel.state = state
        self._emit("Newstate", channel.fields())

    def _begin(self) -> None:
        # Called with the server's lock held, like every method below.
        self._emit("Newchannel", self._source.fields())
        self._emit("Newchannel", self._dest.fields())
        self._dial("DialBegin", ("DialString", self._dial_string))
        self._set_state(self._dest, 5)

    def answer(self) -> None:
        with self._server._lock:
            if self._answered or self._hung_up:
                return
            self._answered = True
            self._set_state(self._dest, 6)
            self._dial("DialEnd", ("DialStatus", "ANSWER"))
            # Dial() answers the calling channel too once the far end picks up.
            self._set_state(self._source, 6)
            self._emit("BridgeCreate", self._bridge_fields(0))
            for count, channel in enumerate((self._source, self._dest), start=1):
                self._emit("BridgeEnter", [*self._bridge_fields(count), *channel.fields()])
            self._bridged = True

    def hold(self) -> None:
        with self._server._lock:
            if self._hung_up:
                return
            self._held = True
            self._emit("Hold", [*self._extension_side.fields(), ("MusicClass", "default")])

    def unhold(self) -> None:
        with self._server._lock:
            if self._hung_up:
                return
            self._held = False
            self._emit("Unhold", self._extension_side.fields())

    def hangup(self) -> None:
        with self._server._lock:
            if self._hung_up:
                return
            self._hung_up = True
            if not self._answered:
                self._dial("DialEnd", ("DialStatus", "CANCEL"))
            if self._bridged:
                for count, channel in ((1, self._source), (0, self._dest)):
                    self._emit("BridgeLeave", [*self._bridge_fields(count), *channel.fields()])
                self._emit("BridgeDestroy", self._bridge_fields(0))
                self._bridged = False
            for channel in (self._dest, self._source):
                cause = [("Cause", "16"), ("Cause-txt", "Normal Clearing")]
                self._emit("Hangup", [*channel.fields(), *cause])
            self._server._calls.remove(self)


class QueueCall(Call):
    """A caller in a queue and app_queue's rings of one member; the events and their fields
    are those of the recording (``tests/pbx/recordings/asterisk-ami-queue-recording.jsonl``:
    QueueCallerJoin; AgentCalled, DialBegin, then AgentRingNoAnswer with RingTime, DialEnd
    NOANSWER and CANCEL and the member channel's Hangup; or DialEnd ANSWER,
    QueueCallerLeave, AgentConnect and the bridge; or, the caller hanging up while waiting,
    QueueCallerAbandon with HoldTime, QueueCallerLeave and the caller's Hangup)."""

    def __init__(
        self,
        server: AmiServer,
        caller: _Channel,
        queue: str,
        member: Member | None,
        timeout: float | None,
        waited: float = 0.0,
    ) -> None:
        self._queue = queue
        self._member = member
        self._timeout = timeout
        self._rang_at = time.monotonic()
        self._joined_at = time.monotonic() - waited
        self._position = 0
        self.rings = 0
        self._ringing = False
        self.caller_uniqueid = caller.uniqueid
        super().__init__(
            server,
            source=caller,
            dest=self._member_channel(server, caller) if member is not None else caller,
            extension_side=caller,
            dial_string=member.interface.split("/", 1)[-1] if member is not None else "",
        )

    def _member_channel(self, server: AmiServer, caller: _Channel) -> _Channel:
        assert self._member is not None
        interface = self._member.interface
        name = channel_name_of(interface, server._next_channel())
        return _Channel(
            name, server._next_uniqueid(), caller.linkedid, 0, caller.caller_num, "",
            "", "", "from-queue", caller.exten,
        )  # fmt: skip

    def _agent(self, event: str, *extra: tuple[str, str]) -> None:
        assert self._member is not None
        fields = [
            *self._source.fields(),
            *self._dest.fields("Dest"),
            ("Queue", self._queue),
            ("Interface", self._member.interface),
            ("MemberName", self._member.member_name or self._member.interface),
            *extra,
        ]
        self._server._emit(event, "agent,all", fields)

    def _caller(self, event: str, *extra: tuple[str, str]) -> None:
        """A QueueCaller* event: the caller's channel, then Queue and ``extra``."""
        fields = [*self._source.fields(), ("Queue", self._queue), *extra]
        self._server._emit(event, "agent,all", fields)

    def _waiting_here(self) -> list[QueueCall]:
        return [c for c in self._server._waiting if c._queue == self._queue]

    def _join(self) -> None:
        self._server._waiting.append(self)
        self._position = count = len(self._waiting_here())
        self._emit("Newchannel", self._source.fields())
        self._caller("QueueCallerJoin", ("Position", str(count)), ("Count", str(count)))
        if self._member is not None:
            self._ring()

    def _leave(self) -> None:
        """QueueCallerLeave: the caller's position as it left, and the callers left after."""
        position = self._waiting_here().index(self) + 1
        self._server._waiting.remove(self)
        left = len(self._waiting_here())
        self._caller("QueueCallerLeave", ("Position", str(position)), ("Count", str(left)))

    def _ring(self) -> None:
        self._server._calls.append(self)  # the member's device rings (QueueMember Status)
        self._extension_side = self._dest
        self.extension_channel = self._dest.name
        self.extension_uniqueid = self._dest.uniqueid
        self.rings += 1
        self._ringing = True
        self._rang_at = time.monotonic()
        self._emit("Newchannel", self._dest.fields())
        self._agent("AgentCalled")
        self._dial("DialBegin", ("DialString", self._dial_string))
        if self._timeout is not None and self._server._loop is not None:
            ring, loop, timeout = self.rings, self._server._loop, self._timeout
            loop.call_soon_threadsafe(loop.call_later, timeout, self._timed_out, ring)

    def _timed_out(self, ring: int) -> None:
        with self._server._lock:
            if self.rings == ring and self._ringing:
                self.ring_out()

    def ring_out(self) -> None:
        """The ring ends unanswered (the queue's timeout): the caller keeps waiting."""
        with self._server._lock:
            if not self._ringing:
                return
            self._ringing = False
            ring_ms = int((time.monotonic() - self._rang_at) * 1000)
            self._agent("AgentRingNoAnswer", ("RingTime", str(ring_ms)))
            self._dial("DialEnd", ("DialStatus", "NOANSWER"))
            self._dial("DialEnd", ("DialStatus", "CANCEL"))
            self._emit("Hangup", [*self._dest.fields(), ("Cause", "0"), ("Cause-txt", "Unknown")])
            self._server._calls.remove(self)

    def ring_again(self) -> None:
        """app_queue rings the member again (after the queue's ``retry``)."""
        with self._server._lock:
            if self._ringing or self._answered or self._hung_up or self._member is None:
                return
            self._dest = self._member_channel(self._server, self._source)
            self._ring()

    def answer(self) -> None:
        with self._server._lock:
            if not self._ringing or self._answered:
                return
            self._answered = True
            self._ringing = False
            self._set_state(self._dest, 6)
            self._dial("DialEnd", ("DialStatus", "ANSWER"))
            self._leave()  # before AgentConnect, as recorded
            hold = str(int(time.monotonic() - self._joined_at))
            ring = str(int((time.monotonic() - self._rang_at) * 1000))
            self._agent("AgentConnect", ("HoldTime", hold), ("RingTime", ring))
            self._emit("BridgeCreate", self._bridge_fields(0))
            for count, channel in enumerate((self._dest, self._source), start=1):
                self._emit("BridgeEnter", [*self._bridge_fields(count), *channel.fields()])
            self._bridged = True

    def abandon(self) -> None:
        """The caller hangs up while waiting: a ring in progress is cancelled (DialEnd
        CANCEL, the member channel's Hangup), then QueueCallerAbandon (HoldTime, whole
        seconds), QueueCallerLeave and the caller's Hangup, as recorded."""
        with self._server._lock:
            if self._answered or self._hung_up or self not in self._server._waiting:
                return
            if self._ringing:
                self._ringing = False
                self._dial("DialEnd", ("DialStatus", "CANCEL"))
                cause = [("Cause", "16"), ("Cause-txt", "Normal Clearing")]
                self._emit("Hangup", [*self._dest.fields(), *cause])
                self._server._calls.remove(self)
            self._hung_up = True
            position = self._waiting_here().index(self) + 1
            hold = str(int(time.monotonic() - self._joined_at))
            self._caller(
                "QueueCallerAbandon",
                ("Position", str(position)),
                ("OriginalPosition", str(self._position)),
                ("HoldTime", hold),
            )
            self._leave()
            cause = [("Cause", "16"), ("Cause-txt", "Normal Clearing")]
            self._emit("Hangup", [*self._source.fields(), *cause])

    def hangup(self) -> None:
        with self._server._lock:
            if not self._answered and self in self._server._waiting:
                self.abandon()
                return
            if self._answered and not self._hung_up:
                hold = str(int(time.monotonic() - self._joined_at))
                self._agent(
                    "AgentComplete", ("HoldTime", hold), ("TalkTime", "0"), ("Reason", "caller")
                )
            if self in self._server._calls:
                super().hangup()
            elif not self._hung_up:  # between rings: only the caller's channel is left
                self._hung_up = True
                cause = [("Cause", "16"), ("Cause-txt", "Normal Clearing")]
                self._emit("Hangup", [*self._source.fields(), *cause])
            self._ringing = False


def channel_name_of(interface: str, sequence: str) -> str:
    """The channel a member's interface is rung on: ``PJSIP/1001-0000002a``; a Local
    interface's ``;1`` half, named without its options (``Local/1001@agents-0000002a;1``)."""
    if interface.lower().startswith("local/"):
        parts = interface.split("/")
        return f"{'/'.join(parts[:2])}-{sequence};1"
    return f"{interface}-{sequence}"
