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
_MESSAGE = b"Request header fields too large."


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        super().connection_made(transport)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            # Count up to the blank line that ends the head, or all of it while none came.
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()  # before the parser or the application sees any of it
                return
        super().data_received(data)

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        self.logger.warning("Request head over %d bytes refused.", MAX_HEAD_BYTES)
        content = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(_MESSAGE)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                _MESSAGE,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
