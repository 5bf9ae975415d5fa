"""The Dispatcher's WebSocket routing: ``/socket.io/`` to the monitor socket when one is
wired, every other WebSocket refused at its handshake; without a monitor socket (the
service before it is wired) no WebSocket is accepted and ``/socket.io/`` is an unknown path."""

from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.monitor_socket import GOOD_TOKEN, SocketServer

QUERY = f"?token={GOOD_TOKEN}&EIO=3&transport=websocket"


async def refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(url):
            pass
    return refusal.value.response.status_code


async def test_without_a_monitor_socket_no_websocket_is_accepted() -> None:
    with SocketServer(wired=False) as server:
        assert await refused(f"{server.ws_url}/socket.io/{QUERY}") == 403
        assert await refused(f"{server.ws_url}/api/v1/anything{QUERY}") == 403
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            assert (await http.get(f"/socket.io/{QUERY}")).status_code == 404


async def test_with_one_only_its_paths_are() -> None:
    with SocketServer() as server:
        async with connect(f"{server.ws_url}/socket.io{QUERY}") as ws:
            assert (await ws.recv()).startswith('0{"sid"')
            assert await ws.recv() == "40"
        assert await refused(f"{server.ws_url}/socket.io/x{QUERY}") == 403
        assert await refused(f"{server.ws_url}/elsewhere") == 403
