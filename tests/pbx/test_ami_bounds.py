"""A hostile phone system cannot take our memory or time (issue 21, item 24): the AMI client
bounds a line, a message, a list answer and the events waiting, drops the connection past
a bound saying why, and drops the events a dead connection left unread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from agentstatus.pbx import ami
from agentstatus.pbx.ami import AmiConnection, AmiError

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _message(*fields: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields).encode() + b"\r\n"


@contextlib.asynccontextmanager
async def talking_to(script: Script, **options: object) -> AsyncIterator[AmiConnection]:
    """A connection to a server that sends the banner, then plays ``script``."""

    handlers: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        writer.write(b"Asterisk Call Manager/13.0.0\r\n")
        try:
            with contextlib.suppress(ConnectionError, OSError):
                await script(reader, writer)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    connection = AmiConnection(reader, writer, **options)  # type: ignore[arg-type]
    try:
        await connection.start(2)
        yield connection
    finally:
        await connection.close()
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def _action_id(reader: asyncio.StreamReader) -> str:
    found = ""
    while (line := await reader.readline()) not in (b"\r\n", b""):
        key, _, value = line.decode().strip().partition(": ")
        if key == "ActionID":
            found = value
    return found


async def test_a_list_answer_that_never_completes_is_dropped() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        aid = await _action_id(reader)
        writer.write(_message(("Response", "Success"), ("ActionID", aid), ("EventList", "start")))
        n = 0
        while True:
            writer.write(
                b"".join(
                    _message(
                        ("Event", "QueueMember"), ("Location", f"PJSIP/{n}-{i}"), ("ActionID", aid)
                    )
                    for i in range(500)
                )
            )
            n += 1
            await writer.drain()

    async with talking_to(endless) as connection:
        with pytest.raises(AmiError, match="list answer of more than"):
            await connection.action("QueueStatus", timeout=30, list_answer=True)
        assert "QueueStatus: a list answer of more than 20,000 items" in connection.reason
        assert connection.closed.is_set()


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        (b"Event: VarSet\r\nValue: " + b"x" * 200_000 + b"\r\n\r\n", "a line longer than 64 KiB"),
        (
            b"Event: VarSet\r\n"
            + b"".join(f"V{n}: {'x' * 60_000}\r\n".encode() for n in range(10))
            + b"\r\n",
            "a message longer than 256 KiB",
        ),
        (
            b"Event: VarSet\r\n" + b"".join(f"V{n}: x\r\n".encode() for n in range(300)) + b"\r\n",
            "a message of more than 256 lines",
        ),
    ],
    ids=["line", "message bytes", "message lines"],
)
async def test_long_lines_and_messages_are_dropped(sent: bytes, why: str) -> None:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(sent)
        await reader.read()  # until we hang up

    async with talking_to(send) as connection:
        async with asyncio.timeout(5):
            assert await connection.events.get() is None
        assert connection.reason == why


async def test_a_flood_of_events_is_dropped_with_what_it_left() -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        event = _message(("Event", "Hangup"), ("Uniqueid", "1.1"))
        while True:
            writer.write(event * 100)
            await writer.drain()

    async with talking_to(flood, max_queued=1_000) as connection:
        async with asyncio.timeout(5):
            await connection.closed.wait()
        assert "more than 1,000 events waiting" in connection.reason
        # What the dead connection read but nobody took is gone: nothing acts on it now.
        assert connection.events.get_nowait() is None
        assert connection.events.empty()


async def test_events_nobody_follows_are_not_queued_and_reading_yields() -> None:
    sent = 2_000

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_message(("Event", "VarSet"), ("Variable", "X")) * sent)
        writer.write(_message(("Event", "Hangup"), ("Uniqueid", "1.1")))
        await writer.drain()
        await reader.read()

    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    try:
        async with talking_to(chatty, max_queued=10, wanted=frozenset({"Hangup"})) as connection:
            async with asyncio.timeout(5):
                event = await connection.events.get()
            assert event is not None
            assert event["Event"] == "Hangup"
            assert not connection.closed.is_set()
    finally:
        ticker.cancel()
    # The ticker ran while 2,000 buffered messages were read (every YIELD_EVERY).
    assert ticks >= sent // ami.YIELD_EVERY // 2
