"""The event stream of an organisation, as Server-Sent Events, optionally filtered: the
document of the raw endpoint (``http/events_endpoint.py``), which serves it.

The server hands the path to the raw endpoint before FastAPI sees it; a request that
reaches this route anyway (an organisation name the path pattern refuses is answered here)
is passed to the same endpoint. So its parameters are read there, and described here by
hand, from the same constants.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, Security

from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.domain.integers import INT64_MAX
from agentstatus.http.api.auth import OrgName, bearer
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import (
    AUTH_RESPONSES,
    NOT_FOUND,
    TOO_MANY_STREAMS,
    UNAVAILABLE,
)
from agentstatus.http.events_endpoint import MAX_USERS, RESUME_HORIZON_MS, EventsEndpoint

router = APIRouter(
    prefix="/orgs/{org}/events",
    tags=["events"],
    responses={**AUTH_RESPONSES, **NOT_FOUND, **UNAVAILABLE, **TOO_MANY_STREAMS},
)

_TYPES = ", ".join(f"`{t}`" for t in EVENT_TYPES)
_EVENT_ID: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}

STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": f"text/event-stream: `snapshot`, then events of the types {_TYPES}, "
        "whose `id` is the history id. A stream the server drops because its client fell "
        "too far behind ends with a `lagged` event "
        '(`{"reason": "lagged", "resume_after": <id>}`): reconnect with `Last-Event-ID`.',
        "content": {"text/event-stream": {}},
    }
}
PARAMETERS: dict[str, Any] = {
    "parameters": [
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "description": "Resume after this event.",
            "schema": _EVENT_ID,
        },
        {
            "name": "after",
            "in": "query",
            "required": False,
            "description": "Same as Last-Event-ID.",
            "schema": _EVENT_ID,
        },
        {
            "name": "user_id",
            "in": "query",
            "required": False,
            "description": "Only these agents' events (repeatable; an agent panel's stream).",
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_USERS},
        },
        {
            "name": "type",
            "in": "query",
            "required": False,
            "description": "Only these types (repeatable).",
            "schema": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
        },
    ]
}


DESCRIPTION = f"""A snapshot of every agent's presence (of the filtered agents only, with
`user_id`), then every applied change in commit order.

Reconnect with `Last-Event-ID` (or `?after=`) to resume from the durable history without a
gap; no snapshot is sent then. A cursor from before the last {RESUME_HORIZON_MS // 3_600_000}
hours of the organisation's events gets a snapshot instead (read `/history` for older
events). Refusals (401, 403, 404, 422, 429, 503) are answered before the stream starts.
"""


@router.get(
    "",
    response_model=None,
    description=DESCRIPTION,
    responses=STREAM_DOC,
    openapi_extra=PARAMETERS,
    dependencies=[Security(bearer)],
)
async def stream(org: OrgName, context: Context) -> Response:
    """The raw endpoint's answer (see the module's docstring)."""
    return EventsEndpoint(context).response(org)
