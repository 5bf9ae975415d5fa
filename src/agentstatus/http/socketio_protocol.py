"""The socket.io wire format over a WebSocket, for both generations of clients (issue 25).

Two Engine.IO versions are served, chosen by the handshake's ``EIO`` query parameter:

* **Engine.IO 3** (socket.io protocol 4): socket.io-client 1.x and 2.x, which Voicenter's
  Events SDK bundles (1.3.7). The client never sends CONNECT for the default namespace ``/``:
  the server sends ``40`` right after the open packet. The *client* pings (``2``), the server
  answers ``3``. A refused connection is ``44"<message>"``.
* **Engine.IO 4** (socket.io protocol 5): socket.io-client 3.x and 4.x. The client sends
  ``40`` (perhaps ``40{auth}``), the server answers ``40{"sid": …}``. The *server* pings and
  the client answers. A refused connection is ``44{"message": "<message>"}``.

Over the WebSocket transport every frame is one Engine.IO packet: its type digit (``0``
open, ``1`` close, ``2`` ping, ``3`` pong, ``4`` message, ``5`` upgrade, ``6`` noop), then
its data; a message's data is a socket.io packet: its type digit (``0`` CONNECT, ``1``
DISCONNECT, ``2`` EVENT, ``3`` ACK, ``4`` ERROR / CONNECT_ERROR, ``5``/``6`` binary), then
``<attachments>-`` for binary packets, ``<namespace>,`` unless ``/``, an ack id (digits), and
JSON data. Only the default namespace and text packets are served; what this module cannot
parse raises ``ProtocolError`` and the endpoint closes the socket.

This module is pure (no I/O): the endpoint (``http/monitor_socket``) speaks through it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

SUPPORTED_EIO = (3, 4)


class ProtocolError(ValueError):
    """A frame this server does not understand; the socket is closed."""


class EnginePacket(IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SocketPacket(IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


@dataclass(frozen=True, slots=True)
class Incoming:
    """One Engine.IO packet from the client. ``packet`` is the socket.io packet a MESSAGE
    carries, else None."""

    kind: EnginePacket
    packet: SocketIOPacket | None = None


@dataclass(frozen=True, slots=True)
class SocketIOPacket:
    kind: SocketPacket
    namespace: str = "/"
    ack_id: int | None = None
    data: Any = None
    """The JSON data, decoded (an EVENT's ``[name, *args]``); None when absent."""


# --- encoding (server to client) -----------------------------------------------------------


def open_packet(
    sid: str, ping_interval_ms: int, ping_timeout_ms: int, eio: int, max_payload: int
) -> str:
    """The handshake (``0{…}``); Engine.IO 4 adds ``maxPayload``."""
    body: dict[str, Any] = {
        "sid": sid,
        "upgrades": [],
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
    }
    if eio >= 4:
        body["maxPayload"] = max_payload
    return "0" + json.dumps(body, separators=(",", ":"))


PING = "2"
PONG = "3"
CLOSE = "1"


def connect(eio: int, sid: str) -> str:
    """The server's CONNECT for ``/``: bare ``40`` for Engine.IO 3, ``40{"sid"}`` for 4."""
    if eio >= 4:
        return "40" + json.dumps({"sid": sid}, separators=(",", ":"))
    return "40"


def connect_error(eio: int, message: str) -> str:
    """A refused connection: ``44"message"`` (socket.io protocol 4, the 1.x/2.x clients'
    ``error`` event) or ``44{"message"}`` (protocol 5, ``connect_error``)."""
    if eio >= 4:
        return "44" + json.dumps({"message": message}, separators=(",", ":"))
    return "44" + json.dumps(message)


def event(name: str, payload_json: bytes | str) -> str:
    """``42["name",<payload>]``; the payload is JSON already (encoded once for every socket
    of an organisation), so it is concatenated, not decoded and encoded again."""
    payload = payload_json.decode() if isinstance(payload_json, bytes) else payload_json
    return '42["' + _event_name(name) + '",' + payload + "]"


def ack(ack_id: int, args_json: str = "[]") -> str:
    """The answer to an event that asked for one: ``43<id>[…]``."""
    return f"43{ack_id}{args_json}"


def _event_name(name: str) -> str:
    # Names are this server's own constants; refuse one that would need escaping rather
    # than produce broken JSON.
    if not name or any(c in name for c in '"\\') or not name.isprintable():
        raise ValueError(f"unusable event name {name!r}")
    return name


# --- decoding (client to server) -----------------------------------------------------------


def parse(frame: str) -> Incoming:
    """One text frame from the client; raises ProtocolError for what is not a packet."""
    if not frame or not frame[0].isdigit():
        raise ProtocolError("not an Engine.IO packet")
    try:
        kind = EnginePacket(int(frame[0]))
    except ValueError:
        raise ProtocolError("unknown Engine.IO packet type") from None
    if kind is EnginePacket.MESSAGE:
        return Incoming(kind, parse_socketio(frame[1:]))
    return Incoming(kind)


def parse_socketio(text: str) -> SocketIOPacket:
    """A socket.io packet (both protocol 4 and 5: they encode alike)."""
    if not text or not text[0].isdigit():
        raise ProtocolError("not a socket.io packet")
    try:
        kind = SocketPacket(int(text[0]))
    except ValueError:
        raise ProtocolError("unknown socket.io packet type") from None
    if kind in (SocketPacket.BINARY_EVENT, SocketPacket.BINARY_ACK):
        raise ProtocolError("binary packets are not served")
    i = 1
    namespace = "/"
    if i < len(text) and text[i] == "/":
        end = text.find(",", i)
        if end < 0:
            namespace, i = text[i:], len(text)
        else:
            namespace, i = text[i:end], end + 1
    start = i
    while i < len(text) and text[i].isdigit():
        i += 1
    ack_id = int(text[start:i]) if i > start else None
    if ack_id is not None and i - start > 15:
        raise ProtocolError("ack id too long")
    data: Any = None
    if i < len(text):
        try:
            data = json.loads(text[i:])
        except ValueError:
            raise ProtocolError("packet data is not JSON") from None
    if kind is SocketPacket.EVENT and (
        not isinstance(data, list) or not data or not isinstance(data[0], str)
    ):
        raise ProtocolError("an event is a JSON array that starts with its name")
    return SocketIOPacket(kind, namespace, ack_id, data)
