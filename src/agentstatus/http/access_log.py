"""An access log that never writes secrets (query strings are redacted, SPEC.md 6, and so
are a panel link's token should one ever be put in a path, and the token of the monitor's
``getMonitorUrls/{token}``) and
costs the hot path little: lines are buffered and written to stderr a few times a second,
not passed through ``logging`` one record at a time."""

from __future__ import annotations

import asyncio
import atexit
import re
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentstatus.http.voicenter.parameters import redact_query

FLUSH_SECONDS = 0.2
MAX_BUFFERED = 10_000
MAX_TARGET = 2048
"""Characters of a request target logged; the rest is cut (and marked)."""

# Control characters (C0, DEL, C1, the Unicode line separators) and the quote that ends the
# logged target are written escaped: a request must not forge a log line.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029", ord('"'): '\\"', ord("\\"): "\\\\"}


# A panel link's token travels in the URL's fragment, which no server sees; a link pasted
# with "/" for "#" would bring it into the path.
PANEL_TOKEN = re.compile(r"asp_[A-Za-z0-9_-]+")
# The oldest Events SDK asks for its server list at getMonitorUrls/{token} (an API token or
# a monitor socket token, or anything a client mistyped): whatever follows is a secret.
MONITOR_URLS_TOKEN = re.compile(r"(?i)(/monitorapi/getmonitorurls/)[^?]+")


def loggable(text: str, limit: int = MAX_TARGET) -> str:
    shown = text[:limit].translate(_ESCAPES)
    return shown + "...[cut]" if len(text) > limit else shown


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self._stream = stream
        self._lines: list[str] = []
        self._flush_scheduled = False
        self._second = -1
        self._stamp = ""
        atexit.register(self.flush)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            if scope["type"] == "lifespan":
                self.flush()
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        query = scope.get("query_string", b"")
        path = PANEL_TOKEN.sub("asp_[redacted]", scope["path"])
        path = MONITOR_URLS_TOKEN.sub(r"\1[redacted]", path)
        target = loggable(path + ("?" + redact_query(query) if query else ""))
        client = scope.get("state", {}).get("client_addr") or (scope.get("client") or ("-",))[0]
        self._lines.append(
            f'{self._stamp} access {client} "{loggable(scope["method"], 32)} {target}" {status} '
            f"{seconds * 1000:.1f}ms\n"
        )
        if len(self._lines) >= MAX_BUFFERED:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._lines:
            return
        data, self._lines = "".join(self._lines), []
        stream = self._stream or sys.stderr
        try:
            stream.write(data)
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed (shutting down): nothing else to do with the lines
