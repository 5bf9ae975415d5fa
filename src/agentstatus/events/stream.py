"""One subscriber's Server-Sent Events: a snapshot, what it missed, then its live events.

The frames come from the fan-out, framed once for everyone (``fastapi.sse.format_sse_event``);
the response is FastAPI's ``EventSourceResponse``, taught to end a stream the server dropped
(see :class:`SubscriberResponse`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anyio
import orjson
from fastapi.sse import KEEPALIVE_COMMENT, EventSourceResponse, format_sse_event
from starlette.types import Receive, Scope, Send

from agentstatus.events.fanout import Catching, Dropped, EventFilter, Fanout

# Tells EventSource clients how soon to reconnect after a drop.
RETRY = format_sse_event(retry=1000)
# A large snapshot goes out in pieces, each written only once the client took the last
# (flow control), so a stream that is not read holds one piece, not the whole snapshot.
PIECE = 64 * 1024
# How long a dropped stream may take to write its last event before the connection goes,
# and how long a client may take nothing of its snapshot (the last piece not written)
# before it is closed: a stream that does not read holds the snapshot it was given, so
# this bounds how many snapshots stalled streams keep alive (at most one taken every
# SNAPSHOT_REUSE_SECONDS, each for this long).
DROP_GRACE_SECONDS = 2.0
SNAPSHOT_STALL_SECONDS = 2.0


def lagged_frame(cursor: int) -> bytes:
    """The last event of a stream dropped for falling behind: resume after ``cursor``."""
    data = orjson.dumps({"reason": "lagged", "resume_after": cursor}).decode()
    return format_sse_event(data_str=data, event="lagged")


class EventStream:
    """The frames of one subscriber: its snapshot, then what it missed that only the
    durable history holds, then its subscription's live events."""

    def __init__(
        self,
        fanout: Fanout,
        org: str,
        oid: int,
        cursor: int,
        event_filter: EventFilter,
        catching: Catching,
        first: bytes | None = None,
    ) -> None:
        self._fanout = fanout
        self._org, self._oid, self._cursor = org, oid, cursor
        self._filter = event_filter
        self.subscription = catching.subscription
        self._catching = catching
        self._first = first
        self.in_snapshot = first is not None
        """True until the client has taken all but the last piece of its snapshot."""
        self.progressed = time.monotonic()
        """When the last piece was taken (the generator resumed)."""

    async def frames(self) -> AsyncIterator[bytes | memoryview]:
        fanout, subscription = self._fanout, self.subscription
        try:
            if self._first is not None:
                whole, self._first = memoryview(self._first), None
                for at in range(0, len(whole), PIECE):
                    yield whole[at : at + PIECE]
                    self.progressed = time.monotonic()
                del whole
            self.in_snapshot = False
            yield RETRY
            catching = self._catching
            upto = catching.history_upto
            async for frame in fanout.history(
                self._org, self._oid, self._cursor, upto, self._filter
            ):
                yield frame
            for at in range(0, len(catching.backlog), 100):
                yield b"".join(catching.backlog[at : at + 100])
            while True:
                frames = await subscription.wait()
                if subscription.dropped is Dropped.LAGGED:
                    yield lagged_frame(subscription.delivered)
                if subscription.dropped is not None:
                    return
                yield b"".join(frames) if frames else KEEPALIVE_COMMENT
        finally:
            subscription.close()


class SubscriberResponse(EventSourceResponse):
    """An event stream that also ends when the server drops its subscriber.

    A client that stopped reading leaves the response waiting to write; it is cancelled
    after a grace period, and the connection closes without the end of the response
    (uvicorn logs "ASGI callable returned without completing response.").
    """

    def __init__(self, stream: EventStream) -> None:
        # No caching, and no buffering by nginx (X-Accel-Buffering), as FastAPI's own.
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(stream.frames(), headers=headers)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def until(done: asyncio.Event | None = None) -> None:
                if done is None:
                    await self.listen_for_disconnect(receive)
                else:
                    await done.wait()
                    await anyio.sleep(DROP_GRACE_SECONDS)
                group.cancel_scope.cancel()

            async def respond() -> None:
                await self.stream_response(send)
                group.cancel_scope.cancel()

            async def stalled() -> None:
                stream = self._stream
                while stream.in_snapshot:
                    await anyio.sleep(0.25)
                    if time.monotonic() - stream.progressed > SNAPSHOT_STALL_SECONDS:
                        stream.subscription.drop(Dropped.STALLED)
                        group.cancel_scope.cancel()
                        return

            group.start_soon(respond)
            group.start_soon(until)
            group.start_soon(until, self._stream.subscription.gone)
            group.start_soon(stalled)
        # A stream cancelled before it began never ran its own clean-up.
        self._stream.subscription.close()
