"""An access log that never writes secrets: query strings are redacted (SPEC.md 6)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentstatus.wire.parameters import redact_query

log = logging.getLogger("agentstatus.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            query = scope.get("query_string", b"")
            target = scope["path"] + ("?" + redact_query(query) if query else "")
            client = scope.get("state", {}).get("client_addr") or (scope.get("client") or ("-",))[0]
            log.info(
                '%s "%s %s" %d %.1fms',
                client,
                scope["method"],
                target,
                status,
                (time.perf_counter() - started) * 1000,
            )
