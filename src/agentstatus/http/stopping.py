"""uvicorn's server, taught to end the event streams when it starts to stop."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn


class StreamEndingServer(uvicorn.Server):
    """Ends the open event streams first thing on shutdown (SIGTERM, Ctrl-C).

    uvicorn waits for every open response to finish (up to ``timeout_graceful_shutdown``)
    before it tells the application to shut down; an event stream never finishes by
    itself, so an instance with one stream open took the whole grace period to stop, then
    cut the stream off mid-response. Ended first, each stream finishes its response and
    its client reconnects (to another instance) with ``Last-Event-ID``."""

    def __init__(self, config: uvicorn.Config, end_streams: Callable[[], None]) -> None:
        super().__init__(config)
        self._end_streams = end_streams

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._end_streams()
        await super().shutdown(sockets)
