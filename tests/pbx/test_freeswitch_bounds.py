"""A hostile event socket cannot make the FreeSWITCH adapter hold unbounded memory: long
lines, many headers, large bodies, answers nobody asked for and more events than can be
handled drop the connection, saying why; events are read while a slow answer is awaited,
and what a dead connection left behind is dropped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from agentstatus.domain.pbx_config import make_config
from agentstatus.domain.seats import Seat, SeatState
from agentstatus.pbx.esl import MAX_HEADERS, MAX_LINE
from agentstatus.pbx.freeswitch import (
    BASE_RATE,
    MAX_PENDING,
    RATE_PER_EXTENSION,
    RATE_WINDOW,
    FreeSwitch,
)
from agentstatus.pbx.phone import BoundCrossed, PhoneError
from tests.support.esl_server import EslServer, recorded
from tests.support.receiver import LOOPBACK

QUEUES = ("support@default",)
STATUS_LINE = 1  # the recording's agent-status-change (agent 1 On Break)


@pytest.fixture
def esl() -> Iterator[EslServer]:
    with EslServer(queues=QUEUES) as server:
        yield server


@pytest.fixture
async def fs(esl: EslServer) -> AsyncIterator[FreeSwitch]:
    config = make_config("freeswitch", "127.0.0.1", port=esl.port, queues=list(QUEUES))
    found = FreeSwitch(config, "ClueCon-test-01", LOOPBACK, timeout=5.0)
    await found.connect()
    await found.reconcile({})
    await found.apply(Seat("101", SeatState.TAKING, "", "Dana", "sip1", "101"))
    yield found
    await found.close()


async def dropped(fs: FreeSwitch) -> str:
    """The reason the adapter gives once the connection is gone (as ``pbx show`` will); a
    ``BoundCrossed``, so that the link backs off."""

    async def until_lost() -> None:
        while True:
            assert await fs.events() is not None, "closed without saying why"

    with pytest.raises(BoundCrossed) as raised:
        await asyncio.wait_for(until_lost(), 10)
    assert not fs.connected()
    return str(raised.value)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"Content-Type: text/event-plain\nX: " + b"a" * MAX_LINE + b"\n\n", "header line"),
        (b"".join(b"X-%d: y\n" % i for i in range(MAX_HEADERS + 1)) + b"\n", "headers"),
        (b"Content-Length: 999999999\nContent-Type: text/event-plain\n\n", "an event of"),
        (b"Content-Length: x\nContent-Type: text/event-plain\n\n", "not a number"),
        (b"Content-Type: api/response\nContent-Length: 4\n\n+OK\n", "an answer to no command"),
    ],
)
async def test_what_cannot_be_held_drops_the_connection(
    esl: EslServer, fs: FreeSwitch, data: bytes, said: str
) -> None:
    esl.send_raw(data)
    reason = await dropped(fs)
    assert said in reason, reason
    assert "dropped" in reason, reason


async def test_an_answer_too_large_is_refused_before_it_is_read(
    esl: EslServer, fs: FreeSwitch
) -> None:
    esl.fail_next("callcenter_config agent list", answer="x" * (9 * 2**20))
    with pytest.raises(BoundCrossed, match="an answer of 9437185 bytes"):
        await fs.reconcile({})
    assert not fs.connected()


async def test_more_events_than_can_be_handled_drop_the_connection_and_its_backlog(
    esl: EslServer, fs: FreeSwitch
) -> None:
    # Each is a change at the phone to hand over; nobody takes them (the link is busy). An
    # organisation this large may send them this fast: only the backlog is in the way.
    fs.extensions = frozenset(f"x{i}" for i in range(MAX_PENDING))
    esl.flood([recorded(STATUS_LINE, {"CC-Agent": "101"})], MAX_PENDING * 4)
    async with asyncio.timeout(10):
        while fs.connected():
            await asyncio.sleep(0.01)
    reason = await dropped(fs)
    assert f"more than {MAX_PENDING} waiting" in reason, reason
    with pytest.raises(PhoneError):
        await fs.events()  # nothing left behind is handed over late


async def test_more_events_a_second_than_a_call_centre_sends_drop_the_connection(
    esl: EslServer, fs: FreeSwitch
) -> None:
    handed: list[object] = []

    async def link() -> None:  # keeps up: nothing waits
        while (batch := await fs.events()) is not None:
            handed.extend(batch)

    taking = asyncio.create_task(link())
    rate = BASE_RATE + RATE_PER_EXTENSION * len(fs.extensions)
    esl.flood([recorded(STATUS_LINE, {"CC-Agent": "101"})], int(rate * RATE_WINDOW) + 100)
    with pytest.raises(BoundCrossed, match=f"more than {rate} events a second"):
        await asyncio.wait_for(taking, 10)
    assert len(handed) <= rate * RATE_WINDOW


async def test_events_are_read_while_a_slow_answer_is_awaited(
    esl: EslServer, fs: FreeSwitch
) -> None:
    fs.extensions = frozenset(f"x{i}" for i in range(MAX_PENDING))  # only the backlog bounds
    esl.set_delay(3.0)
    started = time.monotonic()
    slow = asyncio.create_task(fs.reconcile({}))
    await asyncio.sleep(0.2)
    esl.flood([recorded(STATUS_LINE, {"CC-Agent": "101"})], MAX_PENDING * 4)
    with pytest.raises(BoundCrossed, match="faster than they could be handled"):
        await slow
    assert time.monotonic() - started < 3.0, "the flood was noticed before the answer came"
