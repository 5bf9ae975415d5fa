"""Sending raw ASGI answers on the hot path, where a framework's response objects cost."""

from __future__ import annotations

import orjson
from starlette.types import Send

from agentstatus.wire.outcomes import OUTCOMES, Outcome, Row

JSON = b"application/json"

# Rendered once: the table's objects never change, and answering is the hot path.
OUTCOME_BODIES: dict[Row, bytes] = {row: orjson.dumps(o.as_dict()) for row, o in OUTCOMES.items()}


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


async def send_outcome(send: Send, outcome: Outcome, retry_after: int = 1) -> None:
    extra = [(b"retry-after", str(retry_after).encode())] if outcome.retry_after else None
    await send_bytes(send, outcome.http_status, OUTCOME_BODIES[outcome.row], extra_headers=extra)
