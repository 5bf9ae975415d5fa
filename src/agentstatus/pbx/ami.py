"""A small Asterisk Manager Interface client: one connection, one outstanding action.

AMI is line based: a banner line, then messages of ``Key: Value`` lines ended by an empty
line. Actions carry an ``ActionID`` that their ``Response`` (and the events of a list
answer, up to the one with ``EventList: Complete``) echo; every other event is unsolicited
and goes to :attr:`AmiConnection.events`. Asterisk answers a session's actions in order,
but a second action sent before the first is answered may be processed out of order with
events; as the AMI documentation advises, a client waits for each answer.

The phone system is not trusted with our memory or our time (an organisation admin may
point it at any host): a line, a message, a list answer and the events waiting to be read
are bounded (see the ``MAX_*`` below). Past a bound the connection is dropped and
:attr:`AmiConnection.reason` says why; the events it left unread are dropped with it.
Reading gives the event loop to other work every ``YIELD_EVERY`` messages, since a
buffered stream answers ``readline`` without ever suspending.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

Message = dict[str, str]

MAX_LINE_BYTES = 64 * 1024
"""Asterisk's own lines are short (a header, a channel variable): 64 KiB is generous."""
MAX_MESSAGE_LINES = 256
MAX_MESSAGE_BYTES = 256 * 1024
MAX_LIST_ITEMS = 20_000
"""Items of one list answer (``QueueStatus``'s members of one queue, ``CoreShowChannels``'
channels): ten times a large call centre's."""
MAX_LIST_BYTES = 8 * 1024 * 1024
MAX_QUEUED_EVENTS = 10_000
"""Unsolicited events read but not yet taken: a phone system faster than we can follow
for this long is dropped (and connected again later) rather than buffered without end."""
YIELD_EVERY = 32


class AmiError(Exception):
    """The connection failed, or an answer never came."""


class ActionFailed(AmiError):
    """``Response: Error``; ``message`` is Asterisk's ``Message``."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


class Overrun(AmiError):
    """The phone system sent more than a bound allows."""


@dataclass(slots=True)
class _Pending:
    action: str
    response: asyncio.Future[Message]
    items: list[Message] = field(default_factory=list)
    complete: asyncio.Future[None] | None = None
    size: int = 0


def encode(action: str, fields: dict[str, str]) -> bytes:
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError("an AMI header cannot contain a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AmiConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_queued: int = MAX_QUEUED_EVENTS,
        wanted: frozenset[str] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._pending: dict[str, _Pending] = {}
        self.events: asyncio.Queue[Message | None] = asyncio.Queue()
        """Unsolicited events; None once the connection is closed (what was still waiting
        is dropped then: a dead connection's backlog must not act)."""
        self._max_queued = max_queued
        self._wanted = wanted
        """The events worth queueing (None: all); the others are dropped as read."""
        self.banner = ""
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.booted = asyncio.Event()
        """Set by ``FullyBooted``: Asterisk has loaded its modules (``app_queue`` too)."""
        self.reason = ""
        """Why the connection was dropped, when a bound was passed."""

    async def start(self, timeout: float) -> None:
        """Read the banner and start reading messages."""
        async with asyncio.timeout(timeout):
            line = await self._reader.readline()
        self.banner = line[:200].decode(errors="replace").strip()
        if not self.banner.startswith("Asterisk Call Manager"):
            raise AmiError("the server did not answer as Asterisk's manager interface")
        self._task = asyncio.create_task(self._read(), name="ami-reader")

    async def login(self, username: str, secret: str, timeout: float) -> None:
        await self.action("Login", {"Username": username, "Secret": secret}, timeout=timeout)

    async def action(
        self,
        action: str,
        fields: dict[str, str] | None = None,
        *,
        timeout: float,
        list_answer: bool = False,
    ) -> tuple[Message, list[Message]]:
        """Send one action, wait for its answer (and, for a list answer, its events up to
        the completing one); ``ActionFailed`` on ``Response: Error``."""
        async with self._lock:
            if self.closed.is_set():
                raise AmiError(self.reason or "the connection is closed")
            action_id = f"as-{next(self._ids)}"
            loop = asyncio.get_running_loop()
            pending = _Pending(action, loop.create_future())
            if list_answer:
                pending.complete = loop.create_future()
            self._pending[action_id] = pending
            try:
                self._writer.write(encode(action, {"ActionID": action_id, **(fields or {})}))
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
                    response = await pending.response
                    if response.get("Response", "").lower() == "error":
                        raise ActionFailed(action, response.get("Message", ""))
                    if pending.complete is not None and response.get("EventList") == "start":
                        await pending.complete
            except TimeoutError:
                # Still outstanding: one more action would be a second one in flight.
                self._drop("")
                raise AmiError(f"{action}: no answer within {timeout:g} s") from None
            finally:
                self._pending.pop(action_id, None)
            return response, pending.items

    def _drop(self, reason: str) -> None:
        """End the connection now; ``reason``, when given, is the bound it passed."""
        if reason and not self.reason:
            self.reason = reason
        self._writer.close()
        self.closed.set()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def _read(self) -> None:
        try:
            count = 0
            while True:
                read = await self._message()
                if read is None:
                    break
                self._route(*read)
                count += 1
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        except Overrun as exc:
            self._drop(str(exc))
        except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass
        finally:
            self.closed.set()
            for pending in self._pending.values():
                for future in (pending.response, pending.complete):
                    if future is not None and not future.done():
                        future.set_exception(AmiError(self.reason or "the connection was lost"))
            self._discard_backlog()
            self.events.put_nowait(None)

    def _discard_backlog(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    async def _message(self) -> tuple[Message, int] | None:
        """The next message and its size in bytes; None at the end of the stream."""
        message: Message = {}
        size = 0
        for _ in range(MAX_MESSAGE_LINES):
            try:
                line = await self._reader.readline()
            except ValueError:  # longer than the stream's own limit
                raise Overrun(f"a line longer than {MAX_LINE_BYTES // 1024} KiB") from None
            if not line:
                return None
            if len(line) > MAX_LINE_BYTES:
                raise Overrun(f"a line longer than {MAX_LINE_BYTES // 1024} KiB")
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                raise Overrun(f"a message longer than {MAX_MESSAGE_BYTES // 1024} KiB")
            text = line.decode(errors="replace").rstrip("\r\n")
            if not text:
                if message:
                    return message, size
                continue
            key, _, value = text.partition(":")
            message.setdefault(key.strip(), value.strip())
        raise Overrun(f"a message of more than {MAX_MESSAGE_LINES} lines")

    def _route(self, message: Message, size: int) -> None:
        pending = self._pending.get(message.get("ActionID", ""))
        if "Response" in message:
            if pending is not None and not pending.response.done():
                pending.response.set_result(message)
            return
        if pending is not None and pending.complete is not None:
            if message.get("EventList", "").lower() == "complete":
                if not pending.complete.done():
                    pending.complete.set_result(None)
            else:
                pending.items.append(message)
                pending.size += size
                if len(pending.items) > MAX_LIST_ITEMS or pending.size > MAX_LIST_BYTES:
                    raise Overrun(
                        f"{pending.action}: a list answer of more than {MAX_LIST_ITEMS:,}"
                        f" items or {MAX_LIST_BYTES // 2**20} MiB"
                    )
            return
        name = message.get("Event", "")
        if name == "FullyBooted":
            self.booted.set()
        if self._wanted is not None and name not in self._wanted:
            return
        if self.events.qsize() >= self._max_queued:
            raise Overrun(
                f"more than {self._max_queued:,} events waiting: the phone system sends"
                " faster than they can be followed"
            )
        self.events.put_nowait(message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        self.closed.set()
