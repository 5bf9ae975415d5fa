"""Presence: who is where now (the shape of ``agentstatus presence ORG --json``), logouts
by a supervisor (one agent) or an admin (everyone), recorded with source ``admin``, and a
supervisor's change of one agent to any status, recorded with source ``supervisor``. Each
change records the token's label as its actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from agentstatus.domain.integers import INT32_MAX
from agentstatus.http.api.auth import CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, UNAVAILABLE, responses_for
from agentstatus.http.api.integers import whole
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import presence
from agentstatus.service.errors import ErrorCode
from agentstatus.service.set_presence import SupervisorChange, set_presence
from agentstatus.service.validation import MAX_ID_LENGTH, MAX_REASON_LENGTH

router = APIRouter(
    prefix="/orgs/{org}/presence", tags=["presence"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class AgentPresence(ResponseBody):
    user_id: str
    name: str
    extension: str | None = Field(description="null when the agent is logged out.")
    status: int
    status_name: str | None
    since: str = Field(description="UTC, ISO 8601, to the millisecond.")


class AgentLoggedOut(ResponseBody):
    logged_out: bool = Field(description="false: the agent was already logged out.")


class AgentsLoggedOut(ResponseBody):
    logged_out: int = Field(description="How many agents were logged in.")


class PresencePage(ResponseBody):
    agents: list[AgentPresence]
    next_after: str | None = Field(
        description="Pass as 'after' to read the next page; null on the last page."
    )


@router.get("")
def list_presence(
    org: OrgAccess,
    context: Context,
    after: Annotated[
        str | None,
        Query(
            max_length=presence.MAX_USER_ID,
            description="Continue after this user id (the previous page's next_after).",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=presence.MAX_PAGE), whole(1, presence.MAX_PAGE)
    ] = presence.DEFAULT_PAGE,
) -> PresencePage:
    """Active agents' extension, status and since when, by user id, one page at a time.

    Pages are keyed on the user id, so agents added, removed or changed between pages
    never make another agent appear twice or go missing."""
    page = presence.read_presence_page(context.engine, org, after=after, limit=limit)
    # In the service's shape, so the agents are exactly what the command line prints.
    return PresencePage.model_validate(
        {"agents": [p.as_json() for p in page.agents], "next_after": page.next_after}
    )


@router.post("/logout-all", responses=UNAVAILABLE)
async def logout_everyone(org: OrgAdmin, context: Context, token: CurrentToken) -> AgentsLoggedOut:
    """Log every agent of the organisation out (admin)."""
    count = await presence.logout_everyone(context.changes, context.engine, org, token.actor)
    return AgentsLoggedOut(logged_out=count)


@router.post("/{user_id:path}/logout", responses=UNAVAILABLE)
async def force_logout(
    org: OrgAccess, user_id: str, context: Context, token: CurrentToken
) -> AgentLoggedOut:
    """Log one agent out (supervisor or admin)."""
    changed = await presence.force_logout(
        context.changes, context.engine, org, user_id, token.actor
    )
    return AgentLoggedOut(logged_out=changed)


class PresenceChange(RequestBody):
    status: int = Field(
        ge=1, le=INT32_MAX, description="Any enabled status of the organisation; 2 logs out."
    )
    extension: str | None = Field(
        None,
        max_length=MAX_ID_LENGTH,
        description="Where the agent sits; omitted: the extension it holds (required when "
        "the agent is logged out; ignored for a logout).",
    )
    reason: str | None = Field(
        None,
        description=f"Why, in the history: free text of at most {MAX_REASON_LENGTH} "
        "characters (`invalid_reason` beyond); empty or omitted: none.",
    )


SET_PRESENCE_RESPONSES = responses_for(
    ErrorCode.NOT_FOUND,
    ErrorCode.ORGANISATION_NOT_FOUND,
    ErrorCode.AGENT_NOT_FOUND,
    ErrorCode.EXTENSION_IN_USE,
    ErrorCode.VALIDATION_ERROR,
    ErrorCode.STATUS_NOT_AVAILABLE,
    ErrorCode.EXTENSION_NOT_FOUND,
    ErrorCode.EXTENSION_REQUIRED,
    ErrorCode.INVALID_REASON,
    ErrorCode.UNAVAILABLE,
)


# ``{user_id:path}`` takes every path below it: a PUT route below an agent (…/{user_id}/x)
# must be declared above this one.
@router.put("/{user_id:path}", responses=SET_PRESENCE_RESPONSES)
async def set_agent_presence(
    org: OrgAccess, user_id: str, body: PresenceChange, context: Context, token: CurrentToken
) -> AgentPresence:
    """Put one agent in any enabled status, with a reason (supervisor or admin): source
    `supervisor`, the token's label recorded as who did it. Answers the agent's presence
    (also when it was already so: nothing is recorded then)."""
    ask = SupervisorChange(user_id, body.status, body.extension, body.reason, token.actor)
    found = await set_presence(context.changes, context.engine, org, ask)
    return AgentPresence.model_validate(found.as_json())
