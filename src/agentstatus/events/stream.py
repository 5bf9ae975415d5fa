"""Server-Sent Events of one organisation: a snapshot, then every change in commit order.

The stream pulls from the durable history at its own pace, so a slow subscriber never
slows the status path; one that falls far behind simply reads more per round.
``Last-Event-ID`` (a history id) resumes exactly where a subscriber left off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import orjson
from sqlalchemy import Engine

from agentstatus.events.feed import Snapshot, read_events
from agentstatus.events.hub import EventHub

BATCH = 500
# At most one read of the history per stream in this time: under load every change wakes
# the streams, and a read per change per subscriber would cost the status path its CPU.
# Events wait at most this long more; a full batch is read again at once.
MIN_READ_INTERVAL = 0.05


def sse(event: str, data: object, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


async def event_stream(
    engine: Engine,
    hub: EventHub,
    org: str,
    oid: int,
    cursor: int,
    first: Snapshot | None = None,
    *,
    poll_seconds: float = 1.0,
    keepalive_seconds: float = 15.0,
) -> AsyncIterator[bytes]:
    """``first`` (taken by the caller, so that its failure is an HTTP error) is sent
    first; then every event after ``cursor``."""
    if first is not None:
        agents = [a.as_json() for a in first.agents]
        yield sse("snapshot", {"org": org, "agents": agents}, first.cursor)
    # Tells EventSource clients how soon to reconnect after a drop.
    yield b"retry: 1000\n\n"
    quiet_since = time.monotonic()
    with hub.listen(oid) as wake:
        while True:
            wake.clear()
            events = await asyncio.to_thread(read_events, engine, org, oid, cursor, BATCH)
            for event in events:
                yield sse(event.type, event.as_json(), event.id)
                cursor = event.id
            if events:
                quiet_since = time.monotonic()
                if len(events) >= BATCH:
                    continue
            elif time.monotonic() - quiet_since >= keepalive_seconds:
                yield b": keepalive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(MIN_READ_INTERVAL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll_seconds)
