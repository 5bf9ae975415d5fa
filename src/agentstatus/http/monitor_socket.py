"""``/socket.io/``: Voicenter's real-time monitor socket (SPEC section 9, issue 25).

The Events SDK connects with socket.io-client 1.3.7 (Engine.IO 3), websocket transport only,
the socket token in the query (``?token=…&EIO=3&transport=websocket``); socket.io 3/4
clients (Engine.IO 4) are served too. The wire format is ``http/socketio_protocol``; what a
socket reads is a ``MonitorSession`` (``events/monitor_session``), opened by a
``MonitorSource`` the composition root hands in.

One socket runs three tasks until the first ends: the sender (the session's messages, as
``42["<event>",<payload>]``), the receiver (the client's packets) and the heartbeat (Engine.IO
4: the server pings; Engine.IO 3: the client must ping in time). Every write is bounded in
time, so a client that stops reading is dropped, never waited for; the session itself drops
a socket that falls behind (``MonitorEnded("lagged")``). ``session.close()`` runs exactly
once, whatever ends the socket. The token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
import time
from typing import Any, Protocol
from urllib.parse import parse_qsl

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.events.monitor_session import MonitorEnded, MonitorMessage, MonitorSession
from agentstatus.http import socketio_protocol as sio
from agentstatus.http.socketio_protocol import EnginePacket, ProtocolError, SocketPacket
from agentstatus.service.errors import TooMany

log = logging.getLogger(__name__)

PATHS = frozenset({"/socket.io/", "/socket.io"})
MAX_MESSAGE_BYTES = 64 * 1024
"""The largest frame a client may send (its events are small: a token, a list of
extensions); a larger one closes the socket (1009)."""
PING_INTERVAL_MS = 25_000
PING_TIMEOUT_MS = 20_000
SEND_TIMEOUT_SECONDS = 30.0
"""A write that cannot complete this long (the client stopped reading) ends the socket."""
KEEPALIVE_EVENTS = frozenset({"keepalive", "keepAlive"})

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_TOO_BIG = 1009


class MonitorSource(Protocol):
    """What the socket needs from the rest of the service (wired in ``app.py``)."""

    async def authenticate(self, token: str) -> MonitorIdentity | None:
        """The socket token's identity, or None (unknown, expired or revoked)."""
        ...

    async def open(self, identity: MonitorIdentity) -> MonitorSession:
        """A session for one socket; raises ``TooMany`` when the login holds its most."""
        ...


@functools.lru_cache(maxsize=1024)
def _framed(message: MonitorMessage) -> str:
    """A message as its socket.io frame, made once for the organisation's sockets (each
    message object is shared by all of them; the cache holds the last ones sent)."""
    return sio.event(message.event, message.payload)


def engine_error(code: int, message: str) -> bytes:
    """The JSON body an engine.io server answers a handshake it refuses (HTTP 400)."""
    return json.dumps({"code": code, "message": message}, separators=(",", ":")).encode()


TRANSPORT_UNKNOWN = (0, "Transport unknown")
UNSUPPORTED_PROTOCOL = (5, "Unsupported protocol version")


async def refuse_http(scope: Scope, receive: Receive, send: Send) -> None:
    """A plain HTTP request to ``/socket.io/`` (the polling transport, a probe): refused as
    engine.io refuses a transport it does not serve."""
    code, message = TRANSPORT_UNKNOWN
    body = engine_error(code, message)
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Closed(Exception):
    """The socket ended: close it with ``code`` (None: it is gone already)."""

    def __init__(self, code: int | None, why: str) -> None:
        super().__init__(why)
        self.code = code


class MonitorSocket:
    """The ASGI endpoint for ``websocket`` scopes on ``/socket.io/``."""

    def __init__(
        self,
        source: MonitorSource,
        *,
        ping_interval_ms: int = PING_INTERVAL_MS,
        ping_timeout_ms: int = PING_TIMEOUT_MS,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
    ) -> None:
        self.source = source
        self.ping_interval_ms = ping_interval_ms
        self.ping_timeout_ms = ping_timeout_ms
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        websocket = WebSocket(scope, receive, send)
        transport = query.get("transport", "websocket")
        eio = _eio(query.get("EIO"))
        if transport != "websocket" or eio is None:
            code, message = TRANSPORT_UNKNOWN if transport != "websocket" else UNSUPPORTED_PROTOCOL
            await websocket.send_denial_response(_json_response(engine_error(code, message)))
            return
        await websocket.accept()
        connection = _Connection(self, websocket, eio, query.get("token", ""))
        await connection.run()


def _json_response(body: bytes) -> Response:
    return Response(body, status_code=400, media_type="application/json")


def _eio(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    eio = int(value)
    return eio if eio in sio.SUPPORTED_EIO else None


class _Connection:
    """One accepted socket, from its open packet to its close."""

    def __init__(self, endpoint: MonitorSocket, websocket: WebSocket, eio: int, token: str):
        self.endpoint = endpoint
        self.websocket = websocket
        self.eio = eio
        self.token = token
        self.sid = secrets.token_urlsafe(15)
        self.session: MonitorSession | None = None
        self.identity: MonitorIdentity | None = None
        # asyncio's, not anyio's: anyio's lock (and a cancel scope per send) cost a
        # checkpoint each, which was most of the server's CPU at 10,000 messages a second.
        self.lock = asyncio.Lock()
        self.last_seen = time.monotonic()
        """When the client last pinged (Engine.IO 3) or ponged (4)."""
        self.awaiting_pong = False
        self.writing_since: float | None = None
        """When the write in progress began (None: none): a client that stops reading
        holds it, and ``_write_watch`` closes the socket."""

    async def run(self) -> None:
        code: int | None = CLOSE_NORMAL
        try:
            await self._handshake()
            async with anyio.create_task_group() as group:
                # none returns: each runs until it raises, which cancels the others
                group.start_soon(self._send_loop)
                group.start_soon(self._receive_loop)
                group.start_soon(self._heartbeat)
                group.start_soon(self._write_watch)
        except* _Closed as closed:
            first = closed.exceptions[0]
            assert isinstance(first, _Closed)
            code = first.code
            log.debug("monitor socket %s closed: %s", self.sid, first)
        except* (WebSocketDisconnect, OSError) as lost:
            # the client went away under a write, or a write did not complete in time
            # (uvicorn's ClientDisconnected and anyio's TimeoutError are OSErrors)
            code = None
            log.debug("monitor socket %s lost: %r", self.sid, lost.exceptions[0])
        finally:
            if self.session is not None:
                self.session.close()
                self.session = None
        if code is not None:
            with (
                anyio.move_on_after(self.endpoint.send_timeout),
                contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError),
            ):
                await self.websocket.close(code)

    # --- handshake ---------------------------------------------------------------------

    async def _handshake(self) -> None:
        endpoint = self.endpoint
        await self._send(
            sio.open_packet(
                self.sid,
                endpoint.ping_interval_ms,
                endpoint.ping_timeout_ms,
                self.eio,
                MAX_MESSAGE_BYTES,
            )
        )
        if self.eio >= 4:
            auth = await self._await_connect()
            if not self.token and isinstance(auth, dict) and isinstance(auth.get("token"), str):
                self.token = auth["token"]
        identity = await endpoint.source.authenticate(self.token) if self.token else None
        self.token = ""  # not kept beyond its use (keepalive's payload is not checked)
        if identity is None:
            await self._refuse("Not authorized")
        assert identity is not None
        try:
            self.session = await endpoint.source.open(identity)
        except TooMany as exc:
            await self._refuse(str(exc))
        self.identity = identity
        await self._send(sio.connect(self.eio, secrets.token_urlsafe(15)))
        assert self.session is not None
        await self._send_messages(self.session.greeting())

    async def _await_connect(self) -> Any:
        """Engine.IO 4: the client's CONNECT for ``/`` (``40`` or ``40{auth}``)."""
        with anyio.move_on_after(self.endpoint.ping_timeout_ms / 1000):
            while True:
                incoming = await self._receive()
                packet = incoming.packet
                if incoming.kind is EnginePacket.MESSAGE and packet is not None:
                    if packet.kind is not SocketPacket.CONNECT or packet.namespace != "/":
                        raise _Closed(CLOSE_PROTOCOL_ERROR, "expected CONNECT for /")
                    return packet.data
        raise _Closed(CLOSE_NORMAL, "no CONNECT in time")

    async def _refuse(self, message: str) -> None:
        await self._send(sio.connect_error(self.eio, message))
        raise _Closed(CLOSE_NORMAL, f"refused: {message}")

    # --- the three loops ---------------------------------------------------------------

    async def _send_loop(self) -> None:
        assert self.session is not None
        while True:
            try:
                messages = await self.session.next()
            except MonitorEnded as ended:
                raise _Closed(CLOSE_NORMAL, f"session ended: {ended.reason}") from None
            await self._send_messages(messages)

    async def _receive_loop(self) -> None:
        while True:
            incoming = await self._receive()
            if incoming.kind is EnginePacket.PING:
                self.last_seen = time.monotonic()
                if self.eio < 4:
                    await self._send(sio.PONG)
            elif incoming.kind is EnginePacket.PONG:
                self.last_seen = time.monotonic()
                self.awaiting_pong = False
            elif incoming.kind is EnginePacket.CLOSE:
                raise _Closed(None, "the client closed")
            elif incoming.packet is not None:
                await self._on_packet(incoming.packet)

    async def _heartbeat(self) -> None:
        interval = self.endpoint.ping_interval_ms / 1000
        timeout = self.endpoint.ping_timeout_ms / 1000
        if self.eio >= 4:
            while True:
                await anyio.sleep(interval)
                self.awaiting_pong = True
                await self._send(sio.PING)
                await anyio.sleep(timeout)
                if self.awaiting_pong:
                    raise _Closed(CLOSE_NORMAL, "no pong in time")
        while True:  # Engine.IO 3: the client pings every interval
            remaining = self.last_seen + interval + timeout - time.monotonic()
            if remaining <= 0:
                raise _Closed(CLOSE_NORMAL, "no ping in time")
            await anyio.sleep(remaining)

    async def _write_watch(self) -> None:
        """A write that cannot complete for ``send_timeout`` (the client stopped reading
        and its buffers are full) closes the socket. One check every few seconds, not a
        timer per write: a timer per write was a third of the server's CPU at 10,000
        messages a second."""
        limit = self.endpoint.send_timeout
        while True:
            await anyio.sleep(min(limit / 4, 5.0))
            since = self.writing_since
            if since is not None and time.monotonic() - since > limit:
                raise TimeoutError("a write did not complete in time")

    # --- the client's packets ----------------------------------------------------------

    async def _on_packet(self, packet: sio.SocketIOPacket) -> None:
        if packet.kind is SocketPacket.DISCONNECT:
            raise _Closed(CLOSE_NORMAL, "the client disconnected")
        if packet.kind is not SocketPacket.EVENT or packet.namespace != "/":
            log.debug("monitor socket %s: ignored a packet of type %s", self.sid, packet.kind)
            return
        name, args = packet.data[0], packet.data[1:]
        payload = args[0] if args else None
        assert self.session is not None
        assert self.identity is not None
        if name in KEEPALIVE_EVENTS:
            await self._send_messages([self.session.keepalive()])
        elif name == "resync":
            await self._send_messages(self.session.resync())
        elif name == "updateMonitoredExtensions":
            extensions = payload.get("extensionsString") if isinstance(payload, dict) else None
            if isinstance(extensions, str):
                await self._send_messages(self.session.monitor(extensions))
            else:
                log.debug("monitor socket %s: updateMonitoredExtensions without a string", self.sid)
        else:
            log.debug("monitor socket %s: ignored the event %.40r", self.sid, name)
        if packet.ack_id is not None:
            await self._send(sio.ack(packet.ack_id))

    # --- frames ------------------------------------------------------------------------

    async def _receive(self) -> sio.Incoming:
        """The next text frame, parsed; binary frames are skipped."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise _Closed(None, "the client went away")
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                if len(data) > MAX_MESSAGE_BYTES:
                    raise _Closed(CLOSE_TOO_BIG, "binary frame too large")
                log.debug("monitor socket %s: ignored a binary frame", self.sid)
                continue
            if len(text) > MAX_MESSAGE_BYTES:
                raise _Closed(CLOSE_TOO_BIG, "frame too large")
            try:
                return sio.parse(text)
            except ProtocolError as exc:
                raise _Closed(CLOSE_PROTOCOL_ERROR, f"malformed packet: {exc}") from None

    async def _send_messages(self, messages: list[MonitorMessage]) -> None:
        async with self.lock:
            self.writing_since = time.monotonic()
            for message in messages:
                await self.websocket.send_text(_framed(message))
            self.writing_since = None

    async def _send(self, frame: str) -> None:
        async with self.lock:
            self.writing_since = time.monotonic()
            await self.websocket.send_text(frame)
            self.writing_since = None
