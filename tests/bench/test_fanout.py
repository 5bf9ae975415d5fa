"""The fan-out part's subscriber against a scripted event stream: chunked framing cut
anywhere, matching events to changes, reconnecting with ``Last-Event-ID``, and counting
duplicates and events of other agents. (Its run against agentstatus is in the smoke run.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from bench.dataset import USER_BASE
from bench.fanout import Run, Scenario

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _event(event_id: int, agent: int, status: int, *, id_last: bool = False) -> bytes:
    data = {
        "id": event_id,
        "type": "agent.status",
        "org": "bench",
        "user_id": str(USER_BASE + agent),
        "previous": {"extension": None, "status": 2},
        "new": {"extension": f"sip{USER_BASE + agent}", "status": status},
        "at": "2026-12-01T00:00:00.000Z",
        "source": "GET",
    }
    if id_last:  # the order fastapi.sse.format_sse_event writes
        return f"event: agent.status\ndata: {json.dumps(data)}\nid: {event_id}\n\n".encode()
    return f"id: {event_id}\nevent: agent.status\ndata: {json.dumps(data)}\n\n".encode()


LAGGED = b'event: lagged\ndata: {"reason":"lagged","resume_after":12}\n\n'


SNAPSHOT = b'id: 10\nevent: snapshot\ndata: {"org":"bench","agents":[]}\n\nretry: 1000\n\n'


def _chunked(payload: bytes, cut: int) -> bytes:
    """``payload`` as HTTP chunks of ``cut`` bytes (so chunks split lines and events)."""
    out = b""
    for i in range(0, len(payload), cut):
        piece = payload[i : i + cut]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out


class FakeStream:
    """A scripted server; every connection it accepted is closed at the end."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await self.handler(reader, writer)

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


async def _subscribe(run: Run, done: Callable[[], bool]) -> None:
    """One subscriber of ``run`` until ``done()``, then stopped."""
    task = asyncio.create_task(run.subscribe(run.subscribers[0]))
    try:
        await _until(done)
    finally:
        run.stopping = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _until(done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("cut", [1, 7, 4096])
async def test_a_dropped_stream_is_resumed_and_every_event_matched(cut: int) -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        if len(heads) == 1:
            body = SNAPSHOT + _event(11, 1, 1) + _event(12, 2, 1, id_last=True) + b": ping\n\n"
            writer.write(_chunked(body + LAGGED, cut))
            await writer.drain()
            writer.close()  # dropped as lagged, without the last chunk
        else:
            # Resumed: the last event again (a duplicate), then the next.
            writer.write(_chunked(_event(12, 2, 1) + _event(13, 1, 3), cut))
            await writer.drain()

    run = Run(0, "t0ken", Scenario("t", org_subscribers=1, agent_subscribers=0, rate=1), 2)
    for agent, status in [(1, 1), (2, 1), (1, 3)]:
        run.add_change(agent, status)
    async with FakeStream(handler) as run.port:
        await _subscribe(run, lambda: run.counters.delivered == 3)
    c = run.counters
    assert (c.duplicates, c.mismatched, c.unexpected, c.extra) == (1, 0, 0, 0)
    assert c.reconnects == 1
    assert c.lagged == 1
    assert list(run.delivery_change) == [0, 1, 2]
    assert run.subscribers[0].snapshot_at is not None
    assert b"Authorization: Bearer t0ken\r\n" in heads[0]
    assert b"Last-Event-ID" not in heads[0]
    assert b"Last-Event-ID: 12\r\n" in heads[1]
    assert run.expected_total == 3


async def test_a_single_agent_subscriber_counts_other_agents_events_as_extra() -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        # Not chunked: a stream that ends with the connection.
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        writer.write(SNAPSHOT + _event(11, 1, 1) + _event(12, 2, 1) + _event(13, 2, 3))
        await writer.drain()

    run = Run(0, "t", Scenario("t", org_subscribers=0, agent_subscribers=1, rate=1), 2)
    # The one agent subscriber covers agent 1; agent 2's changes are nobody's.
    run.add_change(1, 1)
    run.add_change(2, 1)
    run.add_change(2, 3)
    async with FakeStream(handler) as run.port:
        await _subscribe(run, lambda: run.counters.extra == 2)
    assert run.counters.delivered == 1
    assert run.expected_total == 1
    assert f"?user_id={USER_BASE + 1} ".encode() in heads[0]


async def test_a_wrong_status_is_mismatched_and_an_ended_stream_reconnects() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(_chunked(SNAPSHOT + _event(11, 1, 11), 64) + b"0\r\n\r\n")
        await writer.drain()

    run = Run(0, "t", Scenario("t", org_subscribers=1, agent_subscribers=0, rate=1), 1)
    run.add_change(1, 3)
    async with FakeStream(handler) as run.port:
        await _subscribe(run, lambda: run.counters.reconnects >= 1)
    assert run.counters.delivered == 1
    assert run.counters.mismatched == 1
