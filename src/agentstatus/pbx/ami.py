"""A small Asterisk Manager Interface client: one connection, one outstanding action.

AMI is line based: a banner line, then messages of ``Key: Value`` lines ended by an empty
line. Actions carry an ``ActionID`` that their ``Response`` (and the events of a list
answer, up to the one with ``EventList: Complete``) echo; every other event is unsolicited
and goes to :attr:`AmiConnection.events`. Asterisk answers a session's actions in order,
but a second action sent before the first is answered may be processed out of order with
events; as the AMI documentation advises, a client waits for each answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

Message = dict[str, str]

MAX_MESSAGE_LINES = 500


class AmiError(Exception):
    """The connection failed, or an answer never came."""


class ActionFailed(AmiError):
    """``Response: Error``; ``message`` is Asterisk's ``Message``."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


@dataclass(slots=True)
class _Pending:
    action: str
    response: asyncio.Future[Message]
    items: list[Message] = field(default_factory=list)
    complete: asyncio.Future[None] | None = None


def encode(action: str, fields: dict[str, str]) -> bytes:
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError("an AMI header cannot contain a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AmiConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._pending: dict[str, _Pending] = {}
        self.events: asyncio.Queue[Message | None] = asyncio.Queue()
        """Unsolicited events; None once the connection is closed."""
        self.banner = ""
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def start(self, timeout: float) -> None:
        """Read the banner and start reading messages."""
        async with asyncio.timeout(timeout):
            line = await self._reader.readline()
        self.banner = line.decode(errors="replace").strip()
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
                raise AmiError("the connection is closed")
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
                self._writer.close()
                self.closed.set()
                raise AmiError(f"{action}: no answer within {timeout:g} s") from None
            finally:
                self._pending.pop(action_id, None)
            return response, pending.items

    async def _read(self) -> None:
        try:
            while True:
                message = await self._message()
                if message is None:
                    break
                self._route(message)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.closed.set()
            for pending in self._pending.values():
                for future in (pending.response, pending.complete):
                    if future is not None and not future.done():
                        future.set_exception(AmiError("the connection was lost"))
            self.events.put_nowait(None)

    async def _message(self) -> Message | None:
        message: Message = {}
        for _ in range(MAX_MESSAGE_LINES):
            line = await self._reader.readline()
            if not line:
                return None
            text = line.decode(errors="replace").rstrip("\r\n")
            if not text:
                if message:
                    return message
                continue
            key, _, value = text.partition(":")
            message.setdefault(key.strip(), value.strip())
        raise ValueError("an AMI message with too many lines")

    def _route(self, message: Message) -> None:
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
            return
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
