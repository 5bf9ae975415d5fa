"""The socket.io codec (http/socketio_protocol), packet by packet, for both versions."""

from __future__ import annotations

import json

import pytest

from agentstatus.http import socketio_protocol as sio
from agentstatus.http.socketio_protocol import EnginePacket, ProtocolError, SocketPacket


def test_open_packets() -> None:
    v3 = sio.open_packet("abc", 25000, 20000, 3, 65536)
    assert v3 == '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
    v4 = json.loads(sio.open_packet("abc", 25000, 20000, 4, 65536)[1:])
    assert v4["maxPayload"] == 65536


def test_connect_and_connect_error_per_version() -> None:
    assert sio.connect(3, "s") == "40"
    assert sio.connect(4, "s") == '40{"sid":"s"}'
    assert sio.connect_error(3, "Not authorized") == '44"Not authorized"'
    assert sio.connect_error(4, "Not authorized") == '44{"message":"Not authorized"}'


def test_events_are_concatenated_not_reencoded() -> None:
    assert sio.event("ExtensionEvent", b'{"a": 1}') == '42["ExtensionEvent",{"a": 1}]'
    assert sio.event("ExtensionsUpdated", '"1001"') == '42["ExtensionsUpdated","1001"]'
    assert sio.ack(17) == "4317[]"
    with pytest.raises(ValueError, match="unusable"):
        sio.event('bad"name', b"1")


@pytest.mark.parametrize(
    ("frame", "kind", "packet"),
    [
        ("2", EnginePacket.PING, None),
        ("2probe", EnginePacket.PING, None),
        ("3", EnginePacket.PONG, None),
        ("1", EnginePacket.CLOSE, None),
        ("6", EnginePacket.NOOP, None),
        ("40", EnginePacket.MESSAGE, sio.SocketIOPacket(SocketPacket.CONNECT)),
        (
            '40{"token":"t"}',
            EnginePacket.MESSAGE,
            sio.SocketIOPacket(SocketPacket.CONNECT, data={"token": "t"}),
        ),
        ("41", EnginePacket.MESSAGE, sio.SocketIOPacket(SocketPacket.DISCONNECT)),
        (
            '42["keepalive","tok"]',
            EnginePacket.MESSAGE,
            sio.SocketIOPacket(SocketPacket.EVENT, data=["keepalive", "tok"]),
        ),
        (
            '4212["resync"]',
            EnginePacket.MESSAGE,
            sio.SocketIOPacket(SocketPacket.EVENT, ack_id=12, data=["resync"]),
        ),
        (
            '42/admin,3["x"]',
            EnginePacket.MESSAGE,
            sio.SocketIOPacket(SocketPacket.EVENT, "/admin", 3, ["x"]),
        ),
        ("40/admin,", EnginePacket.MESSAGE, sio.SocketIOPacket(SocketPacket.CONNECT, "/admin")),
    ],
)
def test_parse(frame: str, kind: EnginePacket, packet: sio.SocketIOPacket | None) -> None:
    assert sio.parse(frame) == sio.Incoming(kind, packet)


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "x",
        "7",
        "4",
        "4x",
        "47",
        "42",
        "42[",
        "42{}",
        "42[1]",
        "42[]",
        '451-["b",{}]',
        '421234567890123456["x"]',
    ],
)
def test_malformed(frame: str) -> None:
    with pytest.raises(ProtocolError):
        sio.parse(frame)
