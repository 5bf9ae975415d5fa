"""History: the organisation's applied status changes in commit order, by agent and time
range, one page at a time (pass ``next_after`` back as ``after``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from agentstatus.http.api.auth import OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.integers import EventIdQuery, whole
from agentstatus.http.api.models import ResponseBody
from agentstatus.http.api.time_range import Range
from agentstatus.service.history import MAX_PAGE, read_history

router = APIRouter(
    prefix="/orgs/{org}/history", tags=["history"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class Placement(ResponseBody):
    extension: str | None
    status: int


class QueueCaller(ResponseBody):
    change: str = Field(description="joined, answered, abandoned or left.")
    name: str = Field(description="The queue.")
    call_id: str
    phone: str = Field(description='The caller\'s number; "" when hidden.')
    joined_at: str | None = Field(description="When it joined (UTC, ISO 8601).")
    wait_seconds: float | None = Field(description="How long it waited; null for a join.")


class HistoryEvent(ResponseBody):
    id: int
    user_id: str
    previous: Placement
    new: Placement
    at: str = Field(description="UTC, ISO 8601, to the millisecond.")
    source: str = Field(
        description="GET, POST, admin, system, panel (the agent's panel), pbx (the phone "
        "system) or supervisor (a supervisor's change from the board, the API or the CLI)."
    )
    client_addr: str | None
    policy: str | None = Field(
        None,
        description="The policy that made the row: limit:warn (the agent stayed past the "
        "status's limit; no change), limit:login, limit:logout or shift-end.",
    )
    due: str | None = Field(None, description="When the policy's deadline was due (UTC).")
    call: dict[str, Any] | None = Field(
        None, description="A call's event only: the call, as the phone system reported it."
    )
    reason: str | None = Field(
        None,
        description="Why, when the change has a reason: a rule's name or a supervisor's words.",
    )
    actor: str | None = Field(
        None,
        description="Who, where the source has one: the web user's e-mail, the API token's "
        "label (token:ID without one), cli:LOGIN, panel-link:ID.",
    )
    queue: QueueCaller | None = Field(
        None,
        description="A queue's caller's event only (user_id \"\" unless an agent "
        "answered it): what happened and to whom.",
    )


class HistoryPage(ResponseBody):
    events: list[HistoryEvent]
    next_after: int | None = Field(
        description="Pass as 'after' to read the next page; null on the last page."
    )


# Unset fields are left out, so an event is exactly what ``history --json`` prints.
@router.get("", response_model_exclude_unset=True)
def read(
    org: OrgAccess,
    context: Context,
    times: Range,
    user_id: Annotated[str | None, Query(description="Only this agent.")] = None,
    after: EventIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE), whole(1, MAX_PAGE)] = 100,
) -> HistoryPage:
    """Events with from <= at < to, oldest first."""
    page = read_history(
        context.engine,
        org,
        user_id=user_id,
        start_ms=times.start_ms,
        end_ms=times.end_ms,
        after=after,
        limit=limit,
    )
    return HistoryPage(
        events=[HistoryEvent.model_validate(e.as_json()) for e in page.events],
        next_after=page.next_after,
    )
