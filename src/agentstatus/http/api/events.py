"""The event stream of an organisation, as Server-Sent Events, optionally filtered."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.events import credentials
from agentstatus.events.stream import SubscriberResponse
from agentstatus.http.api.auth import CurrentToken, OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, TOO_MANY_STREAMS, UNAVAILABLE
from agentstatus.http.api.integers import EventIdHeader, ResumeQuery
from agentstatus.http.events_endpoint import MAX_USERS, event_filter, subscriber_response
from agentstatus.service import agents

router = APIRouter(
    prefix="/orgs/{org}/events",
    tags=["events"],
    responses={**AUTH_RESPONSES, **NOT_FOUND, **UNAVAILABLE, **TOO_MANY_STREAMS},
)

EventName = Literal[
    "agent.login",
    "agent.logout",
    "agent.status",
    "agent.overdue",
    "call.started",
    "call.answered",
    "call.held",
    "call.resumed",
    "call.ended",
]
assert set(EVENT_TYPES) == set(EventName.__args__)  # type: ignore[attr-defined]

SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "text/event-stream: `snapshot`, then `agent.login`, `agent.logout`, "
        "`agent.status` events whose `id` is the history id. A stream the server drops "
        "because its client fell too far behind ends with a `lagged` event "
        '(`{"reason": "lagged", "resume_after": <id>}`): reconnect with `Last-Event-ID`.',
        "content": {"text/event-stream": {}},
    }
}


@router.get("", response_model=None, responses=SSE_DOC)
async def stream(
    org: OrgAccess,
    token: CurrentToken,
    context: Context,
    last_event_id: EventIdHeader = None,
    after: ResumeQuery = None,
    user_id: Annotated[
        list[str] | None,
        Query(description="Only these agents' events (repeatable; an agent panel's stream)."),
    ] = None,
    event_type: Annotated[
        list[EventName] | None, Query(alias="type", description="Only these types (repeatable).")
    ] = None,
) -> SubscriberResponse:
    """A snapshot of every agent's presence (of the filtered agents only, with `user_id`),
    then every applied change in commit order.

    Reconnect with `Last-Event-ID` (or `?after=`) to resume from the durable history
    without a gap; no snapshot is sent then. A cursor from before the last 6 hours of the
    organisation's events gets a snapshot instead (read `/history` for older events).
    """
    if user_id is not None and len(user_id) > MAX_USERS:
        raise HTTPException(422, f"at most {MAX_USERS} user_id filters")
    # Errors here (404, 422, 503) are answered before the stream starts.
    oid = await asyncio.to_thread(agents.stream_org_id, context.engine, org, user_id)
    resume = last_event_id if last_event_id is not None else after
    wanted = event_filter(user_id, event_type)
    return await subscriber_response(context, org, oid, resume, wanted, credentials.token(token.id))
