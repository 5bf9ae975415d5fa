"""Agents of an organisation: list (any role), add, rename, (de)activate and import from
CSV (admin). Deactivating logs the agent out, recorded with source ``admin``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from agentstatus.http.api.auth import CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.csv_upload import CsvText, ImportResult, csv_request_body
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import (
    AUTH_RESPONSES,
    CONFLICT,
    IMPORT_REJECTED,
    NOT_FOUND,
    UNAVAILABLE,
)
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import agents
from agentstatus.service.errors import InvalidInput

router = APIRouter(
    prefix="/orgs/{org}/agents", tags=["agents"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class Agent(ResponseBody):
    user_id: str
    name: str
    active: bool = Field(description="Inactive agents are refused by the status API.")


class AgentCreate(RequestBody):
    user_id: str = Field(description="The UserId the CRM sends; no spaces.")
    name: str | None = None


class AgentUpdate(RequestBody):
    name: str | None = None
    active: bool | None = Field(None, description="false logs the agent out.")


@router.get("")
def list_agents(org: OrgAccess, context: Context) -> list[Agent]:
    """Every agent, active or not, by user id."""
    return [Agent.model_validate(a.as_json()) for a in agents.list_agents(context.engine, org)]


@router.post("", status_code=201, responses=CONFLICT)
def add_agent(org: OrgAdmin, body: AgentCreate, context: Context) -> Agent:
    """Add an agent (logged out)."""
    added = agents.add_agent(context.engine, org, body.user_id, body.name)
    return Agent.model_validate(added.as_json())


@router.patch("/{user_id:path}", responses=UNAVAILABLE)
async def update_agent(
    org: OrgAdmin, user_id: str, body: AgentUpdate, context: Context, token: CurrentToken
) -> Agent:
    """Rename, deactivate or reactivate an agent."""
    if body.name is None and body.active is None:
        raise InvalidInput("give 'name', 'active' or both")
    agent = await agents.update_agent(
        context.changes,
        context.engine,
        org,
        user_id,
        name=body.name,
        active=body.active,
        actor=token.actor,
    )
    return Agent.model_validate(agent.as_json())


@router.post("/import", openapi_extra=csv_request_body("user_id,name"), responses=IMPORT_REJECTED)
async def import_agents(org: OrgAdmin, csv_text: CsvText, context: Context) -> ImportResult:
    """Create the file's agents; those already present get the file's name."""
    summary = await run_in_threadpool(agents.import_agents, context.engine, org, csv_text)
    return ImportResult.model_validate(summary)
