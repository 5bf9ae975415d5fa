"""uvicorn's WebSocket protocol, with its log lines kept free of query strings.

The monitor socket's token travels in the handshake's query (``/socket.io/?token=…``: the
Events SDK leaves no other way), and uvicorn logs each handshake's path *with* its query at
INFO (``"WebSocket /socket.io/?token=…" [accepted]``). This protocol is uvicorn's own
(``websockets``' sans-I/O implementation, what ``ws="auto"`` picks) writing through a logger
that cuts any query string out of its lines' arguments, and with websockets' frame-by-frame
debug lines left off.
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

MAX_FRAME_BYTES = 64 * 1024
"""uvicorn's ``ws_max_size`` for this server: no client frame is larger (the monitor's
events are a token or a list of extensions); a larger one closes the socket (1009)."""


class _DropQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_cut(arg) for arg in record.args)
        return True


def _cut(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.split("?", 1)[0] + "?…"
    return arg


_logger = logging.getLogger("uvicorn.error.websocket")
_logger.addFilter(_DropQuery())


class RedactingWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger = _logger
        # websockets' own debug lines print the request line and every frame (a client's
        # keepalive carries its token): they are left off whatever the log level.
        self.conn.logger = _logger
        self.conn.debug = False

    async def send(self, message: Any) -> None:
        await super().send(message)
        # uvicorn 0.54 marks a handshake complete on accept or close but not after a denial
        # response (``websocket.http.response.*``, the monitor's engine.io-style 400), and
        # then logs "ASGI callable returned without completing handshake" at ERROR.
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            self.handshake_complete = True
