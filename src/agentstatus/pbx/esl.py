"""A small FreeSWITCH event socket client (inbound mode): one connection, one outstanding
command.

Every message is a block of ``Name: value`` headers ended by an empty line, followed by
``Content-Length`` bytes of body when that header is present. The server greets with
``auth/request``; commands (``auth``, ``api``, ``event plain``) are answered in order by a
``command/reply`` (``Reply-Text: +OK …`` or ``-ERR …``) or an ``api/response`` (the
command's output as the body). Events arrive as ``text/event-plain``: a body of headers
whose values are URL-encoded.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import unquote

Headers = dict[str, str]
MAX_HEADERS = 200
MAX_BODY = 8 * 2**20


class EslError(Exception):
    """The connection failed, or an answer never came."""


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
        headers.setdefault(key.strip(), unquote(value) if decode else value)
    return headers


class EslConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()
        self._replies: asyncio.Queue[tuple[Headers, str] | None] = asyncio.Queue()
        self.events: asyncio.Queue[Headers | None] = asyncio.Queue()
        """Events (headers decoded); None once the connection is closed."""
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

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

    async def _command(self, line: str, timeout: float, *, shown: str | None = None) -> str:
        async with self._lock:
            if self.closed.is_set():
                raise EslError("the connection is closed")
            self._writer.write((line + "\n\n").encode())
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
                    answer = await self._replies.get()
            except TimeoutError:
                # A late answer would be taken for the next command's: start again.
                self._writer.close()
                self.closed.set()
                raise EslError(f"{shown or line}: no answer within {timeout:g} s") from None
            if answer is None:
                self._replies.put_nowait(None)  # for whoever asks next
                raise EslError("the connection was lost")
            headers, body = answer
            if headers.get("Content-Type") == "api/response":
                return body
            return headers.get("Reply-Text", "")

    async def _message(self) -> tuple[Headers, str]:
        lines: list[str] = []
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            line = raw.decode(errors="replace").rstrip("\r\n")
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                raise ValueError("an event-socket message with too many headers")
        headers = parse_headers("\n".join(lines), decode=False)
        length = headers.get("Content-Length", "0")
        size = int(length) if length.isdigit() else 0
        if size > MAX_BODY:
            raise ValueError("an event-socket message too large")
        body = (await self._reader.readexactly(size)).decode(errors="replace") if size else ""
        return headers, body

    async def _read(self) -> None:
        try:
            while True:
                headers, body = await self._message()
                kind = headers.get("Content-Type", "")
                if kind == "text/event-plain":
                    event_head, _, _ = body.partition("\n\n")
                    self.events.put_nowait(parse_headers(event_head, decode=True))
                elif kind in ("command/reply", "api/response"):
                    self._replies.put_nowait((headers, body))
                elif kind == "text/disconnect-notice":
                    break
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.closed.set()
            self._replies.put_nowait(None)
            self.events.put_nowait(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        self.closed.set()
