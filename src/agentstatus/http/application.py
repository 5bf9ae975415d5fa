"""The outermost ASGI application: the Voicenter endpoints and the event streams first,
then the web pages, everything else to the FastAPI app; and the store's start and stop
on the lifespan events.

The web pages are handed in (``app.py`` composes them): ``web`` stands above ``http`` and
imports from it, so the dispatcher names no web module."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from agentstatus.http.events_endpoint import EventsEndpoint
from agentstatus.http.monitor_socket import PATHS as MONITOR_PATHS
from agentstatus.http.monitor_socket import MonitorSocket, refuse_http
from agentstatus.http.voicenter.pipeline import Handler
from agentstatus.wire.paths import route_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mounted:
    """An ASGI application and the paths it answers."""

    app: ASGIApp
    handles: Callable[[str], bool]


class Dispatcher:
    def __init__(
        self,
        routes: dict[str, Handler],
        fallback: ASGIApp,
        on_startup: Callable[[], Awaitable[None]],
        on_shutdown: Callable[[], Awaitable[None]],
        events: EventsEndpoint | None = None,
        web: Mounted | None = None,
        monitor: MonitorSocket | None = None,
    ) -> None:
        self.monitor = monitor
        self.web = web
        self.routes = routes
        self.events = events
        self.fallback = fallback
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            handler = self.routes.get(route_key(path))
            if handler is not None:
                await handler(scope, receive, send)
                return
            org = self.events.org_of(path) if self.events is not None else None
            if org is not None and self.events is not None:
                await self.events(scope, receive, send, org)
                return
            if self.web is not None and self.web.handles(path):
                await self.web.app(scope, receive, send)
                return
            if self.monitor is not None and path in MONITOR_PATHS:
                await refuse_http(scope, receive, send)
                return
        elif scope["type"] == "websocket":
            # Voicenter's monitor socket is the one WebSocket endpoint; any other path is
            # refused at the handshake (403), before anything reads the query string.
            if self.monitor is not None and scope["path"] in MONITOR_PATHS:
                await self.monitor(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.fallback(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.on_startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
