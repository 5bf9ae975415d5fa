"""Bounds on what one connection may cost: the size of a request's head (request line and
headers), and the kernel memory of what it has not read yet.

uvicorn's httptools protocol buffers any amount of headers (a single header of many
megabytes is read into memory and handed to the application). This protocol counts the
bytes of each request's head as they arrive and, past ``MAX_HEAD_BYTES``, answers 431 and
closes the connection before the parser or the application sees them. Bodies are not
counted: their limits are the endpoints' own (16 KiB, 1 MiB, 16 MiB).

Linux grows a connection's send buffer up to 4 MiB (``tcp_wmem``) for a peer that does not
read; an event stream whose client stopped reading would hold that much each. A fixed
``SO_SNDBUF`` keeps it to ``SEND_BUFFER_BYTES`` (the kernel doubles the figure for its
bookkeeping); past it, the server's own flow control holds the rest (see events.fanout).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
SEND_BUFFER_BYTES = 128 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
"""A connection must finish each request head this soon after it opens or the head began."""
_MESSAGE = b"Request header fields too large."
_TIMEOUT_MESSAGE = b"The request head did not arrive in time."
# The blank line that ends a head: CRLF as sent, or bare LF, which the parser accepts too.
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    head_timeout_seconds = HEAD_TIMEOUT_SECONDS

    @classmethod
    def with_head_timeout(cls, seconds: float) -> type[BoundedHttpToolsProtocol]:
        """The protocol with another head timeout (uvicorn builds it from its class)."""
        return type(cls.__name__, (cls,), {"head_timeout_seconds": seconds})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
        """The last bytes of the head so far, where its end may begin."""
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head:
            self._answer_and_close(b"408 Request Timeout", _TIMEOUT_MESSAGE)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes, self._tail = False, 0, b""
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._arm()
            self._head_bytes += self._head_part(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()  # before the parser or the application sees any of it
                return
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of ``data`` belong to the head: up to the blank line that ends it
        (looked for across the previous read's last bytes too), or all of them."""
        window = self._tail + data
        ends = [i + len(end) for end in _HEAD_ENDS if (i := window.find(end)) >= 0]
        if ends:
            return max(0, min(ends) - len(self._tail))
        self._tail = window[-3:]
        return len(data)

    def _refuse(self) -> None:
        self.logger.warning("Request head over %d bytes refused.", MAX_HEAD_BYTES)
        self._answer_and_close(b"431 Request Header Fields Too Large", _MESSAGE)

    def _answer_and_close(self, status: bytes, message: bytes) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        content = [b"HTTP/1.1 " + status + b"\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(message)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                message,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
