"""A supervisor puts one agent in any enabled status, with a reason:
``PUT /api/v1/orgs/{org}/presence/{user_id}``, recorded with source ``supervisor`` and the
token's label as who did it. Its own router, included after every other: ``{user_id:path}``
takes any path below an agent, so a route such as ``…/presence/{user_id}/next`` (declared
elsewhere) must be matched first."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from agentstatus.domain.integers import INT32_MAX
from agentstatus.http.api.auth import CurrentToken, OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, responses_for
from agentstatus.http.api.models import RequestBody
from agentstatus.http.api.presence import AgentPresence
from agentstatus.service.errors import ErrorCode
from agentstatus.service.set_presence import SupervisorChange, set_presence
from agentstatus.service.validation import MAX_ID_LENGTH, MAX_REASON_LENGTH

router = APIRouter(prefix="/orgs/{org}/presence", tags=["presence"], responses=AUTH_RESPONSES)


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
