"""A feed hands its subscribers at most a buffer's worth of events per read of the history:
a burst of changes read at once (the feed was busy, the database slow) drops a subscriber
that does not read, never one that keeps up. Before, one read of up to 500 events went to
every buffer at once, and a subscriber with a smaller buffer was dropped however fast it
read."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agentstatus.events import fanout as fanout_module
from agentstatus.events.fanout import Dropped, EventFilter, Subscription
from tests.support.factories import make_org
from tests.support.monitor import rig

BUFFER = 5
CHANGES = 4 * BUFFER + 3


async def _read(subscription: Subscription, count: int) -> list[bytes]:
    """What a stream's writer does: take the frames as they come, until ``count``."""
    frames: list[bytes] = []
    while len(frames) < count and subscription.dropped is None:
        frames += await subscription.wait()
    return frames


async def test_a_burst_read_at_once_drops_only_the_subscriber_that_does_not_read(
    any_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The feed's reads of the history wait while the gate is shut, so that every change
    # below is there to be read in one go.
    gate = threading.Event()
    gate.set()
    real = fanout_module.read_events

    def gated(*args: object) -> object:
        assert gate.wait(10), "the gate was never opened"
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(fanout_module, "read_events", gated)
    async with rig(any_database_url, buffer=BUFFER) as r:
        org = make_org(r.engine, agent_count=CHANGES, extension_count=CHANGES)
        oid = r.oid(org.name)
        feed = await r.fanout.feed(org.name, oid)
        keeps_up = await r.fanout.subscribe(org.name, oid, feed.cursor, EventFilter())
        stalled = await r.fanout.subscribe(org.name, oid, feed.cursor, EventFilter())
        reading = asyncio.create_task(_read(keeps_up.subscription, CHANGES))
        gate.clear()
        for agent, extension in zip(org.agents, org.extensions, strict=True):
            await r.set(org.name, agent, extension, 1)
        gate.set()
        frames = await asyncio.wait_for(reading, 10)
        assert keeps_up.subscription.dropped is None
        assert len(frames) == CHANGES
        assert [f.count(b"event: agent.login") for f in frames] == [1] * CHANGES
        assert stalled.subscription.dropped is Dropped.LAGGED
        assert r.fanout.lagged == 1
