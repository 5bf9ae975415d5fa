"""Presence: who is where now (the shape of ``agentstatus presence ORG --json``), and
logouts by a supervisor (one agent) or an admin (everyone), recorded with source ``admin``
and the token's label as who did it (a supervisor's change of status: ``presence_set.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from agentstatus.http.api.auth import CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, UNAVAILABLE
from agentstatus.http.api.integers import whole
from agentstatus.http.api.models import ResponseBody
from agentstatus.service import presence

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
