"""A small FreeSWITCH event socket client (inbound mode): one connection, one outstanding
command.

Every message is a block of ``Name: value`` headers ended by an empty line, followed by
``Content-Length`` bytes of body when that header is present. The server greets with
``auth/request``; commands (``auth``, ``api``, ``event plain``) are answered in order by a
``command/reply`` (``Reply-Text: +OK …`` or ``-ERR …``) or an ``api/response`` (the
command's output as the body). Events arrive as ``text/event-plain``: a body of headers
whose values are URL-encoded.

The server at the other end may be hostile (an organisation admin chooses the host), so
everything it can make us hold is bounded: a header line, the headers of a message, a
body, and answers nobody asked for. Past a bound the connection is dropped and ``error``
says why. Events are handed to ``on_event`` as they are read, in the reading task, while a
command's answer is awaited too; the reader gives other tasks their turn every
``YIELD_EVERY`` messages or ``YIELD_BYTES``, so a flood cannot hold the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from urllib.parse import unquote

log = logging.getLogger(__name__)

Headers = dict[str, str]
MAX_LINE = 8 * 1024
"""A header line of a message (FreeSWITCH's are a few dozen bytes)."""
MAX_HEADERS = 32
"""Headers of one message (FreeSWITCH sends two or three)."""
MAX_BODY = 8 * 2**20
"""An ``api/response`` body (``show channels as json`` of a busy switch)."""
MAX_EVENT_BODY = 2**20
"""One event (the largest in a recording of a real FreeSWITCH is 12 KB)."""
YIELD_EVERY = 32
"""Messages read in a row before other tasks are given their turn..."""
YIELD_BYTES = 32 * 1024
"""...or bytes of them (a channel event is about 7 KB)."""


class EslError(Exception):
    """The connection failed, or an answer never came."""


class Overrun(EslError):
    """The server sent more than a connection may make us hold."""


class CommandFailed(EslError):
    """A ``-ERR`` answer; ``answer`` is the text after it."""

    def __init__(self, command: str, answer: str) -> None:
        super().__init__(f"{command}: {answer}")
        self.command = command
        self.answer = answer


def check_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError("an event-socket command cannot contain a line break")
    return text


def parse_headers(block: str, *, decode: bool) -> Headers:
    headers: Headers = {}
    for line in block.split("\n"):
        if not line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if decode and "%" in value:
            value = unquote(value)
        headers.setdefault(key.strip(), value)
    return headers


EventHandler = Callable[[Headers | None], None]
"""Called with each event (headers decoded) as it is read, and with None once the
connection is closed."""


def _ignore(_: Headers | None) -> None:
    return None


class EslConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: EventHandler = _ignore,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._lock = asyncio.Lock()
        # One command at a time: at most one answer is ever waited for.
        self._replies: asyncio.Queue[tuple[Headers, str] | None] = asyncio.Queue(maxsize=2)
        self._waiting = False
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.error = ""
        """Why the connection was dropped on our side, or ""."""
        self.bound_crossed = False
        """Whether it was dropped because the server sent more than we may hold."""

    async def start(self, password: str, timeout: float) -> None:
        """Wait for ``auth/request``, authenticate, start reading."""
        async with asyncio.timeout(timeout):
            headers, _ = await self._message()
        if headers.get("Content-Type") != "auth/request":
            raise EslError("the server did not greet as FreeSWITCH's event socket")
        self._task = asyncio.create_task(self._read(), name="esl-reader")
        reply = await self._command(f"auth {check_line(password)}", timeout, shown="auth")
        if not reply.startswith("+OK"):
            raise CommandFailed("auth", "the event socket refused the password")

    async def api(self, command: str, timeout: float) -> str:
        """``api command``: its output; ``CommandFailed`` when it starts with ``-ERR``."""
        body = await self._command(f"api {check_line(command)}", timeout)
        if body.startswith("-ERR") or body.startswith("-USAGE"):
            raise CommandFailed(command, body.removeprefix("-ERR").strip())
        return body

    async def subscribe(self, events: str, timeout: float) -> None:
        reply = await self._command(f"event plain {check_line(events)}", timeout)
        if not reply.startswith("+OK"):
            raise CommandFailed("event plain", reply)

    def drop(self, reason: str, *, bound: bool = False) -> None:
        """End the connection at once (from any task, the reader's included), keeping the
        first reason given; ``bound`` when the server sent more than we may hold."""
        if not self.error:
            self.error = reason
            self.bound_crossed = bound
        self._writer.transport.abort()
        self._closed()

    def _closed(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._replies.put_nowait(None)
        self._on_event(None)

    async def _command(self, line: str, timeout: float, *, shown: str | None = None) -> str:
        async with self._lock:
            if self.closed.is_set():
                raise EslError(self.error or "the connection is closed")
            self._waiting = True
            self._writer.write((line + "\n\n").encode())
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
                    answer = await self._replies.get()
            except TimeoutError:
                # A late answer would be taken for the next command's: start again.
                self.drop(f"{shown or line}: no answer within {timeout:g} s")
                raise EslError(self.error) from None
            finally:
                self._waiting = False
            if answer is None:
                with contextlib.suppress(asyncio.QueueFull):
                    self._replies.put_nowait(None)  # for whoever asks next
                raise EslError(self.error or "the connection was lost")
            headers, body = answer
            if headers.get("Content-Type") == "api/response":
                return body
            return headers.get("Reply-Text", "")

    async def _line(self) -> bytes:
        try:
            raw = await self._reader.readline()
        except ValueError:  # longer than the stream's own limit
            raise Overrun(f"a header line longer than {MAX_LINE} bytes") from None
        if not raw:
            raise asyncio.IncompleteReadError(b"", None)
        if len(raw) > MAX_LINE:
            raise Overrun(f"a header line longer than {MAX_LINE} bytes")
        return raw

    async def _message(self) -> tuple[Headers, str]:
        lines: list[str] = []
        while True:
            line = (await self._line()).decode(errors="replace").rstrip("\r\n")
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                raise Overrun(f"a message with more than {MAX_HEADERS} headers")
        headers = parse_headers("\n".join(lines), decode=False)
        length = headers.get("Content-Length", "0")
        if not length.isdigit():
            raise Overrun(f"a Content-Length that is not a number: {length[:20]!r}")
        size = int(length)
        event = headers.get("Content-Type", "").startswith("text/event")
        limit = MAX_EVENT_BODY if event else MAX_BODY
        if size > limit:
            what = "an event" if event else "an answer"
            raise Overrun(f"{what} of {size} bytes (at most {limit})")
        body = (await self._reader.readexactly(size)).decode(errors="replace") if size else ""
        return headers, body

    async def _read(self) -> None:
        read = size = 0
        try:
            while not self.closed.is_set():
                headers, body = await self._message()
                kind = headers.get("Content-Type", "")
                if kind == "text/event-plain":
                    event_head, _, _ = body.partition("\n\n")
                    self._on_event(parse_headers(event_head, decode=True))
                elif kind in ("command/reply", "api/response"):
                    if not self._waiting or self._replies.qsize():
                        raise Overrun("an answer to no command")
                    self._replies.put_nowait((headers, body))
                elif kind == "text/disconnect-notice":
                    break
                read += 1
                size += len(body)
                if read >= YIELD_EVERY or size >= YIELD_BYTES:
                    read = size = 0
                    await asyncio.sleep(0)  # other tasks' turn, even while data is waiting
        except Overrun as exc:
            if not self.error:
                self.error = f"dropped: the phone system sent {exc}"
                self.bound_crossed = True
        except (OSError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("reading the event socket failed")
            self.error = self.error or "internal error reading the event socket"
        finally:
            self._writer.transport.abort()
            self._closed()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        self._closed()
