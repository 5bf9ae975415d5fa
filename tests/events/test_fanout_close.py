"""A feed ends when it is cancelled, even when a wake-up arrives with the cancellation.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising when a
cancellation and the inner future's completion meet: a feed cancelled as it was woken ran
on, until it had been idle for ``IDLE_SECONDS`` (30 s), holding ``Fanout.close()`` — a
server's shutdown — that long. The feeds now wait with ``asyncio.timeout``."""

from __future__ import annotations

import asyncio

from tests.support.factories import make_org
from tests.support.monitor import rig


async def test_a_feed_woken_as_it_is_cancelled_ends_at_once(database_url: str) -> None:
    async with rig(database_url, poll_seconds=60.0) as r:
        org = make_org(r.engine)
        oid = r.oid(org.name)
        feed = await r.fanout.feed(org.name, oid)
        assert feed.task is not None
        hub = r.fanout.hub

        def parked() -> bool:  # the feed waits for a wake-up (its read done)
            return any(wake._waiters for wake in hub._waiters.get(oid, ()))  # type: ignore[attr-defined]

        async with asyncio.timeout(10):
            while not parked():
                await asyncio.sleep(0.005)
        hub.notify(oid)  # a change is announced ...
        feed.task.cancel()  # ... as the instance shuts down
        done, _ = await asyncio.wait({feed.task}, timeout=5)
        assert feed.task in done, "the feed ran on after it was cancelled"
        assert feed.task.cancelled()
