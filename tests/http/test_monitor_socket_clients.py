"""The monitor socket (``/socket.io/``) against real socket.io clients from npm: 1.3.7 (what
Voicenter's Events SDK bundles, Engine.IO 3), 2.5.0 (Engine.IO 3) and 4.8.x (Engine.IO 4),
run by Node (``tests/node``), connecting with the SDK's own options. The server side is the
real Dispatcher and endpoint over a test ``MonitorSource`` (tests/support/monitor_socket)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from agentstatus.events.monitor_session import MonitorEnded
from tests.support.monitor_socket import (
    FULL_TOKEN,
    GOOD_TOKEN,
    OFFSET_MINUTES,
    NodeClient,
    SocketServer,
    message,
    node_or_skip,
    wait_until,
)

VERSIONS = [1, 2, 4]


@pytest.fixture(scope="module")
def monitor_server() -> Iterator[SocketServer]:
    node_or_skip()
    with SocketServer() as running:
        yield running


@pytest.fixture
async def clients() -> AsyncIterator[list[NodeClient]]:
    started: list[NodeClient] = []
    yield started
    for client in started:
        await client.close()


async def connect(
    monitor_server: SocketServer,
    clients: list[NodeClient],
    version: int,
    token: str | None = GOOD_TOKEN,
) -> NodeClient:
    client = await NodeClient.start(version, monitor_server.http_url, token)
    clients.append(client)
    return client


@pytest.mark.parametrize("version", VERSIONS)
async def test_greeting_then_events_verbatim_then_the_session_ends(
    monitor_server: SocketServer, clients: list[NodeClient], version: int
) -> None:
    before = len(monitor_server.source.sessions)
    client = await connect(monitor_server, clients, version)
    lines = [await client.line() for _ in range(4)]
    assert [line["event"] for line in lines] == [
        "connect",
        "loginSuccess",
        "loginStatus",
        "AllExtensionsStatus",
    ]
    assert lines[1]["payload"] == {
        "errorCode": 0,
        "errorDesc": "Ok",
        "servertime": 1,
        "servertimeoffset": 120,
    }
    session = monitor_server.source.session(before)
    payload = {"data": {"userID": 5, "representativeStatus": 2}, "reason": "userStatusUpdate"}
    session.push(
        [message("ExtensionEvent", payload), message("QueueEvent", {"data": {"Calls": []}})]
    )
    assert await client.line() == {"event": "ExtensionEvent", "payload": payload}
    assert await client.line() == {"event": "QueueEvent", "payload": {"data": {"Calls": []}}}
    session.push(MonitorEnded("revoked"))
    assert (await client.line())["event"] == "disconnect"
    wait_until(lambda: session.closed == 1)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["keepalive", "keepAlive"])
async def test_keepalive_is_answered(
    monitor_server: SocketServer,
    clients: list[NodeClient],
    version: int,
    name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await connect(monitor_server, clients, version)
    await client.until("AllExtensionsStatus")
    await client.send({"emit": name, "payload": GOOD_TOKEN})
    answer = await client.line()
    assert answer["event"] == "keepaliveResponse"
    body = answer["payload"]
    assert set(body) == {"isOk", "errorCode", "errorDesc", "serverTime", "serverTimeOffset"}
    assert (body["isOk"], body["errorCode"], body["errorDesc"]) == (True, 0, "Ok")
    assert body["serverTimeOffset"] == OFFSET_MINUTES
    assert isinstance(body["serverTime"], int)
    assert GOOD_TOKEN not in caplog.text  # neither in the query nor in the keepalive frame


@pytest.mark.parametrize("version", VERSIONS)
async def test_resync_monitor_and_ack_and_disconnect(
    monitor_server: SocketServer, clients: list[NodeClient], version: int
) -> None:
    before = len(monitor_server.source.sessions)
    client = await connect(monitor_server, clients, version)
    await client.until("AllExtensionsStatus")
    session = monitor_server.source.session(before)
    await client.send({"emit": "resync", "payload": {"cache": False}})
    assert await client.line() == {
        "event": "AllExtensionsStatus",
        "payload": {"extensions": [], "resync": 1},
    }
    await client.send(
        {"emit": "updateMonitoredExtensions", "payload": {"extensionsString": "1001,sip7"}}
    )
    assert await client.line() == {"event": "ExtensionsUpdated", "payload": "1001,sip7"}
    assert session.monitored == ["1001,sip7"]
    # not an object: ignored; an unknown event with an ack id: answered, nothing else
    await client.send({"emit": "updateMonitoredExtensions", "payload": "1001"})
    await client.send({"emit": "somethingElse", "payload": 1, "ack": True})
    assert await client.line() == {"event": "ack", "payload": []}
    assert session.monitored == ["1001,sip7"]
    await client.send({"emit": "resync", "payload": None, "ack": True})
    assert (await client.line())["event"] == "AllExtensionsStatus"
    assert await client.line() == {"event": "ack", "payload": []}
    await client.send({"disconnect": True})
    assert (await client.line())["event"] == "disconnect"
    wait_until(lambda: session.closed == 1)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("token", ["wrong-token-6c1d9e", None, FULL_TOKEN])
async def test_a_refused_socket_sees_why_and_its_token_is_not_logged(
    monitor_server: SocketServer,
    clients: list[NodeClient],
    version: int,
    token: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = len(monitor_server.source.sessions)
    client = await connect(monitor_server, clients, version, token)
    refusal = await client.line()
    # 1.x/2.x: "error" with the server's message; 4.x: "connect_error"
    assert refusal["event"] == ("connect_error" if version == 4 else "error")
    expected = "This login holds its most sockets." if token == FULL_TOKEN else "Not authorized"
    assert refusal["payload"] == expected
    assert len(monitor_server.source.sessions) == before
    if token is not None:
        assert token not in caplog.text


async def test_the_polling_transport_is_refused_as_engine_io_refuses_it(
    monitor_server: SocketServer,
) -> None:
    async with httpx.AsyncClient(base_url=monitor_server.http_url) as http:
        for path in ("/socket.io/", "/socket.io"):
            response = await http.get(path, params={"EIO": "3", "transport": "polling"})
            assert response.status_code == 400
            assert response.json() == {"code": 0, "message": "Transport unknown"}
            assert response.headers["content-type"] == "application/json"
