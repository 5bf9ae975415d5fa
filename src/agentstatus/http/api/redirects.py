"""Redirects without a host: the router's trailing-slash redirect would otherwise build an
absolute URL from the request's ``Host`` header, which a client can set to anything (an
open redirect through a link to this server)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _relative(location: bytes) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    path = parts.path or "/"
    if path.startswith("//"):  # would read as a host again
        path = "/" + path.lstrip("/")
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


class RelativeRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (k, _relative(v) if k.lower() == b"location" else v)
                    for k, v in message["headers"]
                ]
            await send(message)

        await self.app(scope, receive, send_relative)
