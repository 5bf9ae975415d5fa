"""The monitor socket's framing, frame by frame, with a raw WebSocket client (``websockets``):
the Engine.IO 3 and 4 handshakes, heartbeats, acks, and what closes a socket (oversize and
malformed frames, a missing pong, the session ending), ``session.close()`` exactly once on
every path. The real clients are in test_monitor_socket_clients.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agentstatus.events.monitor_session import MonitorEnded
from agentstatus.http.monitor_socket import MAX_MESSAGE_BYTES
from tests.support.monitor_socket import (
    GOOD_TOKEN,
    OFFSET_MINUTES,
    ScriptedSession,
    SocketServer,
    message,
    wait_until,
)


@pytest.fixture(scope="module")
def monitor_server() -> Iterator[SocketServer]:
    # short heartbeats, so that a missing pong is seen in a test's time
    with SocketServer(ping_interval_ms=300, ping_timeout_ms=300) as running:
        yield running


def url(monitor_server: SocketServer, eio: int = 3, token: str | None = GOOD_TOKEN) -> str:
    query = f"EIO={eio}&transport=websocket"
    if token is not None:
        query = f"token={token}&{query}"
    return f"{monitor_server.ws_url}/socket.io/?{query}"


async def handshake_v3(monitor_server: SocketServer, ws: ClientConnection) -> ScriptedSession:
    """The open packet, ``40`` and the greeting; the socket's session (the newest: its
    greeting was sent, so it is open; the tests of a module run one at a time)."""
    opening = await ws.recv()
    assert isinstance(opening, str)
    assert opening.startswith("0")
    body = json.loads(opening[1:])
    assert set(body) == {"sid", "upgrades", "pingInterval", "pingTimeout"}
    assert body["upgrades"] == []
    assert body["pingInterval"] == 300
    assert await ws.recv() == "40"
    greeting = [await ws.recv() for _ in range(3)]
    assert [event_name(frame) for frame in greeting] == [
        "loginSuccess",
        "loginStatus",
        "AllExtensionsStatus",
    ]
    return monitor_server.source.sessions[-1]


def event_name(frame: str | bytes) -> str:
    assert isinstance(frame, str)
    assert frame.startswith("42[")
    name: str = json.loads(frame[2:])[0]
    return name


async def closed_code(ws: ClientConnection) -> int | None:
    """Reads until the server closes; the close code."""
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def test_eio3_framing_ping_pong_events_and_acks(monitor_server: SocketServer) -> None:
    async with connect(url(monitor_server)) as ws:
        session = await handshake_v3(monitor_server, ws)
        await ws.send("2")
        assert await ws.recv() == "3"
        await ws.send("2probe")  # a probe's data is the client's: still a ping
        assert await ws.recv() == "3"
        session.push([message("ExtensionEvent", {"a": "é\u2028"})])
        # verbatim: the payload's bytes, not re-encoded
        assert await ws.recv() == '42["ExtensionEvent",{"a": "\\u00e9\\u2028"}]'
        await ws.send('4217["keepalive","t"]')
        reply = await ws.recv()
        assert isinstance(reply, str)
        assert reply.startswith('42["keepaliveResponse",')
        assert json.loads(reply[2:])[1]["serverTimeOffset"] == OFFSET_MINUTES
        assert await ws.recv() == "4317[]"
        await ws.send(b"\x04binary")  # ignored politely
        await ws.send("6")  # noop
        await ws.send("2")
        assert await ws.recv() == "3"
        await ws.send("41")
        assert await closed_code(ws) == 1000
    wait_until(lambda: session.closed == 1)


async def test_eio3_a_client_that_never_pings_is_closed(monitor_server: SocketServer) -> None:
    async with connect(url(monitor_server)) as ws:
        session = await handshake_v3(monitor_server, ws)
        assert await closed_code(ws) == 1000
    wait_until(lambda: session.closed == 1)


async def test_eio4_handshake_and_server_pings(monitor_server: SocketServer) -> None:
    before = len(monitor_server.source.sessions)
    async with connect(url(monitor_server, eio=4)) as ws:
        opening = await ws.recv()
        assert isinstance(opening, str)
        body = json.loads(opening[1:])
        assert body["maxPayload"] == MAX_MESSAGE_BYTES
        assert set(body) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
        await ws.send("40")
        connected = await ws.recv()
        assert isinstance(connected, str)
        assert connected.startswith("40{")
        assert set(json.loads(connected[2:])) == {"sid"}
        for _ in range(3):
            event_name(await ws.recv())
        session = monitor_server.source.session(before)
        for _ in range(3):  # pinged, answered: the socket stays
            assert await ws.recv() == "2"
            await ws.send("3")
        session.push([message("QueueEvent", {"q": 1})])
        frame = await ws.recv()
        while frame == "2":
            await ws.send("3")
            frame = await ws.recv()
        assert frame == '42["QueueEvent",{"q": 1}]'
        assert session.closed == 0
    wait_until(lambda: session.closed == 1)


async def test_eio4_token_in_the_auth_payload_and_a_silent_client_is_closed(
    monitor_server: SocketServer,
) -> None:
    before = len(monitor_server.source.sessions)
    async with connect(url(monitor_server, eio=4, token=None)) as ws:
        await ws.recv()
        await ws.send("40" + json.dumps({"token": GOOD_TOKEN}))
        assert (await ws.recv()).startswith("40{")
        session = monitor_server.source.session(before)
        assert await ws.recv() != "3"  # greeting
        # never answers a ping: closed after pingInterval + pingTimeout
        assert await closed_code(ws) == 1000
    wait_until(lambda: session.closed == 1)


async def test_eio4_a_refused_token_gets_a_connect_error_object(
    monitor_server: SocketServer,
) -> None:
    async with connect(url(monitor_server, eio=4, token="nope-9d0c")) as ws:
        await ws.recv()
        await ws.send("40")
        assert await ws.recv() == '44{"message":"Not authorized"}'
        assert await closed_code(ws) == 1000


@pytest.mark.parametrize(
    "frame",
    ["x", "9", "4", "4x", '42{"not":"an array"}', "42[1]", "42[", '451-["bin",{}]', "42/admin,["],
)
async def test_a_malformed_packet_closes_the_socket(
    monitor_server: SocketServer, frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with connect(url(monitor_server)) as ws:
        session = await handshake_v3(monitor_server, ws)
        await ws.send(frame)
        assert await closed_code(ws) == 1002
    wait_until(lambda: session.closed == 1)
    assert "Traceback" not in caplog.text


async def test_an_oversize_frame_closes_the_socket(monitor_server: SocketServer) -> None:
    async with connect(url(monitor_server), max_size=None) as ws:
        session = await handshake_v3(monitor_server, ws)
        await ws.send('42["keepalive","' + "x" * MAX_MESSAGE_BYTES + '"]')
        assert await closed_code(ws) == 1009
    wait_until(lambda: session.closed == 1)


@pytest.mark.parametrize("reason", ["closed", "lagged", "revoked"])
async def test_the_session_ending_closes_the_socket(
    monitor_server: SocketServer, reason: str
) -> None:
    async with connect(url(monitor_server)) as ws:
        session = await handshake_v3(monitor_server, ws)
        session.push(MonitorEnded(reason))
        assert await closed_code(ws) == 1000
    wait_until(lambda: session.closed == 1)


async def test_a_client_that_goes_away_closes_its_session_once(
    monitor_server: SocketServer,
) -> None:
    ws = await connect(url(monitor_server))
    session = await handshake_v3(monitor_server, ws)
    ws.transport.abort()  # no close frame
    wait_until(lambda: session.closed == 1)
    await ws.close()


async def test_handshakes_refused_before_the_socket(
    monitor_server: SocketServer, caplog: pytest.LogCaptureFixture
) -> None:
    for bad, body in [
        (url(monitor_server, eio=2), {"code": 5, "message": "Unsupported protocol version"}),
        (url(monitor_server, eio=5), {"code": 5, "message": "Unsupported protocol version"}),
        (url(monitor_server).replace("transport=websocket", "transport=polling"), None),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(bad):
                pass
        assert refused.value.response.status_code == 400
        if body is not None:
            assert json.loads(refused.value.response.body) == body
    with pytest.raises(InvalidStatus) as other:
        async with connect(f"{monitor_server.ws_url}/elsewhere"):
            pass
    assert other.value.response.status_code == 403
    async with httpx.AsyncClient(base_url=monitor_server.http_url) as http:
        response = await http.get("/socket.io/", params={"EIO": "3", "transport": "polling"})
    assert response.status_code == 400
    assert response.json() == {"code": 0, "message": "Transport unknown"}
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_a_client_that_stops_reading_is_dropped() -> None:
    # The client reads one frame and no more (max_queue=1: websockets stops reading the
    # transport); the server's writes fill the kernel's buffers and then wait, for no
    # longer than the send timeout. No compression: the padding would shrink to nothing.
    with SocketServer(send_timeout=0.5) as slow_server:
        async with connect(url(slow_server), max_queue=1, max_size=None, compression=None) as ws:
            await ws.recv()
            session = slow_server.source.session(0)
            big = message("ExtensionEvent", {"pad": "x" * 256 * 1024})
            for _ in range(256):  # 64 MiB: far more than loopback's socket buffers hold
                session.push([big])
            wait_until(lambda: session.closed == 1, timeout=30)
            ws.transport.abort()  # the server's close waits behind what was never read
