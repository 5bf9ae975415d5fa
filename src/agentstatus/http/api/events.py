"""The event stream of an organisation, as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from agentstatus.events.feed import Snapshot, snapshot
from agentstatus.events.stream import event_stream
from agentstatus.http.api.auth import OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.history import MAX_EVENT_ID
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading

router = APIRouter(
    prefix="/orgs/{org}/events", tags=["events"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)

SSE_DOC = {
    200: {
        "description": "text/event-stream: `snapshot`, then `agent.login`, `agent.logout`, "
        "`agent.status` events whose `id` is the history id.",
        "content": {"text/event-stream": {}},
    }
}


def _org_id(context: Context, org: str) -> int:
    with reading(context.engine) as conn:
        return org_id(conn, org)


@router.get("", response_class=StreamingResponse, responses=SSE_DOC)  # type: ignore[arg-type]
def stream(
    org: OrgAccess,
    context: Context,
    last_event_id: Annotated[
        int | None, Header(ge=0, le=MAX_EVENT_ID, description="Resume after this event.")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="Same as Last-Event-ID.")
    ] = None,
) -> StreamingResponse:
    """A snapshot of every agent's presence, then every applied change in commit order.

    Reconnect with `Last-Event-ID` (or `?after=`) to resume from the durable history
    without a gap; no snapshot is sent then.
    """
    resume = last_event_id if last_event_id is not None else after
    # Errors here (404, 503) are answered before the stream starts.
    first: Snapshot | None = None
    if resume is None:
        oid, first = snapshot(context.engine, org)
        cursor = first.cursor
    else:
        oid, cursor = _org_id(context, org), resume
    return StreamingResponse(
        event_stream(
            context.engine,
            context.hub,
            org,
            oid,
            cursor,
            first,
            poll_seconds=context.settings.events_poll_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
