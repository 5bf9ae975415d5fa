"""Request-body size limits for the whole native API: 16 MiB for a CSV upload, 1 MiB for
anything else; a larger body is answered 413 without being read into memory."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentstatus.domain.integers import parse_int
from agentstatus.http.errors import PayloadTooLarge, answer_to

MiB = 1024 * 1024
JSON_LIMIT = 1 * MiB
CSV_LIMIT = 16 * MiB
CSV_MEDIA_TYPE = "text/csv"


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def limit_for(scope: Scope, headers: Headers) -> int:
    return CSV_LIMIT if media_type(headers) == CSV_MEDIA_TYPE else JSON_LIMIT


BodyLimit = Callable[[Scope, Headers], int]
"""The largest body a request may send, from its path and headers."""


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit // MiB} MiB"


class BodyLimitMiddleware:
    """Refuses at once a body whose Content-Length is over the limit, and stops reading a
    streamed body when it passes the limit (the route then answers 413)."""

    def __init__(self, app: ASGIApp, limit: BodyLimit = limit_for) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit(scope, headers)
        declared = headers.get("content-length", "")
        size = parse_int(declared)
        if declared and (size is None or size > limit):
            refused = answer_to(PayloadTooLarge(_too_large(limit)))
            assert refused is not None
            response = JSONResponse(refused.body(), refused.status, refused.headers)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI turns any other error while it reads a body into a 400.
                    raise HTTPException(413, _too_large(limit), headers={"Connection": "close"})
            return message

        await self.app(scope, limited_receive, send)
