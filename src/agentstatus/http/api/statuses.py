"""The status catalogue of an organisation: list (any role), add and change (admin).
Statuses are disabled rather than deleted, so history always names them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, CONFLICT, NOT_FOUND
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import statuses
from agentstatus.service.validation import MAX_STATUS_ID

router = APIRouter(
    prefix="/orgs/{org}/statuses", tags=["statuses"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)

StatusId = Annotated[int, Path(ge=1, le=MAX_STATUS_ID, description="The status number.")]


class Status(ResponseBody):
    id: int
    name: str
    color: str = Field(description="#rrggbb")
    available: bool = Field(description="Agents in this status receive calls.")
    enabled: bool = Field(description="Disabled statuses are refused by the status API.")


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
    return [Status.model_validate(s) for s in statuses.list_statuses(context.engine, org)]


@router.post("", status_code=201, responses=CONFLICT)
def add_status(org: OrgAdmin, body: StatusCreate, context: Context) -> Status:
    """Add an enabled status."""
    created = statuses.add_status(
        context.engine, org, body.id, body.name, color=body.color, available=body.available
    )
    return Status.model_validate(created)


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
    return Status.model_validate(updated)
