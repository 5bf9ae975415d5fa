"""Sending raw ASGI answers on the hot path, where a framework's response objects cost."""

from __future__ import annotations

from starlette.types import Send

from agentstatus.http.errors import ErrorAnswer

JSON = b"application/json"


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = JSON,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, refused: ErrorAnswer) -> None:
    """An error answer of the native API's table (``http/errors.py``)."""
    await send_bytes(send, refused.status, refused.json(), extra_headers=refused.raw_headers())
