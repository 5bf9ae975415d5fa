"""Presence: who is where now (the shape of ``agentstatus presence ORG --json``), and
logouts by a supervisor (one agent) or an admin (everyone), recorded with source ``admin``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, UNAVAILABLE
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


@router.get("", response_model=list[AgentPresence])
def list_presence(org: OrgAccess, context: Context) -> JSONResponse:
    """Every active agent's extension, status and since when, by user id."""
    # Sent as the service shapes it, so it is exactly what the command line prints.
    return JSONResponse([p.as_json() for p in presence.list_presence(context.engine, org)])


@router.post("/logout-all", responses=UNAVAILABLE)
async def logout_everyone(org: OrgAdmin, context: Context) -> AgentsLoggedOut:
    """Log every agent of the organisation out (admin)."""
    count = await presence.logout_everyone(context.changes, context.engine, org)
    return AgentsLoggedOut(logged_out=count)


@router.post("/{user_id:path}/logout", responses=UNAVAILABLE)
async def force_logout(org: OrgAccess, user_id: str, context: Context) -> AgentLoggedOut:
    """Log one agent out (supervisor or admin)."""
    changed = await presence.force_logout(context.changes, context.engine, org, user_id)
    return AgentLoggedOut(logged_out=changed)
