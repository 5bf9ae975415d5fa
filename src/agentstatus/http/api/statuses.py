"""The status catalogue of an organisation: list (any role), add and change (admin).
Statuses are disabled rather than deleted, so history always names them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from agentstatus.domain.policies import MAX_LIMIT_SECONDS, MIN_LIMIT_SECONDS
from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, CONFLICT, NOT_FOUND
from agentstatus.http.api.integers import StatusId
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import policies, statuses
from agentstatus.service.validation import MAX_STATUS_ID

router = APIRouter(
    prefix="/orgs/{org}/statuses", tags=["statuses"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class Status(ResponseBody):
    id: int
    name: str
    color: str = Field(description="#rrggbb")
    available: bool = Field(description="Agents in this status receive calls.")
    enabled: bool = Field(description="Disabled statuses are refused by the status API.")
    limit_seconds: int | None = Field(
        None, description="The longest an agent should stay in it; null: no limit."
    )
    limit_action: Literal["warn", "login", "logout"] | None = Field(
        None, description="What happens at the limit (with a limit)."
    )


class StatusLimit(RequestBody):
    seconds: int = Field(ge=MIN_LIMIT_SECONDS, le=MAX_LIMIT_SECONDS)
    then: Literal["warn", "login", "logout"] = Field(
        "warn",
        description="warn: an agent.overdue event and a highlight on the board and the panel; "
        "login: back to Login; logout: logged out. Either is a change with source system.",
    )


class StatusCreate(RequestBody):
    id: int = Field(description=f"1 to {MAX_STATUS_ID}.")
    name: str
    color: str | None = Field(None, description="#RRGGBB; grey when not given.")
    available: bool = False


class StatusUpdate(RequestBody):
    name: str | None = None
    color: str | None = Field(None, description="#RRGGBB")
    available: bool | None = None
    enabled: bool | None = Field(None, description="Statuses 1 and 2 cannot be disabled.")


@router.get("")
def list_statuses(org: OrgAccess, context: Context) -> list[Status]:
    """Every status, enabled or not, by id."""
    found = statuses.list_statuses(context.engine, org)
    return [Status.model_validate(s.as_json()) for s in found]


@router.post("", status_code=201, responses=CONFLICT)
def add_status(org: OrgAdmin, body: StatusCreate, context: Context) -> Status:
    """Add an enabled status."""
    created = statuses.add_status(
        context.engine, org, body.id, body.name, color=body.color, available=body.available
    )
    return Status.model_validate(created.as_json())


@router.patch("/{status_id}")
def update_status(
    org: OrgAdmin, status_id: StatusId, body: StatusUpdate, context: Context
) -> Status:
    """Rename, recolour, or change whether a status is available or enabled."""
    updated = statuses.update_status(
        context.engine,
        org,
        status_id,
        name=body.name,
        color=body.color,
        available=body.available,
        enabled=body.enabled,
    )
    return Status.model_validate(updated.as_json())


@router.put("/{status_id}/limit")
def set_limit(org: OrgAdmin, status_id: StatusId, body: StatusLimit, context: Context) -> Status:
    """Limit how long an agent stays in the status (not Logout). Agents already in it are
    held to the new limit from when they entered it."""
    limit = policies.parse_limit(body.seconds, body.then)
    limited = policies.set_limit(context.engine, org, status_id, limit)
    return Status.model_validate(limited.as_json())


@router.delete("/{status_id}/limit")
def clear_limit(org: OrgAdmin, status_id: StatusId, context: Context) -> Status:
    """Remove the status's limit; deadlines planned for it are dropped."""
    cleared = policies.set_limit(context.engine, org, status_id, None)
    return Status.model_validate(cleared.as_json())
