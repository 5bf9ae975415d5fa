"""Where the SCIM application is mounted, and the application built on its first request.

scim2-models defines its resources and messages as pydantic models when it is imported,
which takes about a third of a second of CPU: a server that is never provisioned over
SCIM (and every ``agentstatus serve`` at start) need not pay it. The first SCIM request
builds the application in a thread, so the event loop keeps serving meanwhile."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from agentstatus.http.context import AppContext

PREFIX = "/scim/v2"


class ScimOnFirstUse:
    """An ASGI application that builds ``http.scim.application`` when first called."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._app: ASGIApp | None = None
        self._building = asyncio.Lock()

    async def _built(self) -> ASGIApp:
        async with self._building:
            if self._app is None:
                self._app = await asyncio.to_thread(self._build)
            return self._app

    def _build(self) -> ASGIApp:
        from agentstatus.http.scim.application import create_scim  # the import is the cost

        return create_scim(self._context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app if self._app is not None else await self._built()
        await app(scope, receive, send)
