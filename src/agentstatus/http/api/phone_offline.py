"""The phone-offline policy (SPEC.md 8): an agent whose phone stays unregistered ``seconds``
while in a status that takes calls goes to ``status`` (source pbx, reason phone-offline).
Off by default; DELETE turns it off."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from agentstatus.domain.phone_registration import PhoneOffline
from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, responses_for
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import phone_registration
from agentstatus.service.errors import ErrorCode

router = APIRouter(prefix="/orgs", tags=["organisations"], responses=AUTH_RESPONSES)

REFUSED = NOT_FOUND | responses_for(ErrorCode.VALIDATION_ERROR)


class PhoneOfflineBody(RequestBody):
    seconds: int = Field(
        description=f"How long the phone may stay unregistered: 1-{phone_registration.MAX_SECONDS}."
    )
    status: int = Field(
        9,
        description="The status the agent goes to: enabled, and one that takes no calls "
        "(else 422). Default 9 (Other).",
    )


class PhoneOfflineResult(ResponseBody):
    enabled: bool
    seconds: int | None = Field(description="null: off.")
    status: int | None = Field(description="null: off.")


def _result(found: PhoneOffline | None) -> PhoneOfflineResult:
    if found is None:
        return PhoneOfflineResult(enabled=False, seconds=None, status=None)
    return PhoneOfflineResult(enabled=True, seconds=found.seconds, status=found.status)


@router.get("/{org}/phone-offline", responses=NOT_FOUND)
def get_phone_offline(org: OrgAccess, context: Context) -> PhoneOfflineResult:
    """The phone-offline policy, or off."""
    return _result(phone_registration.get_phone_offline(context.engine, org))


@router.put("/{org}/phone-offline", responses=REFUSED)
def set_phone_offline(
    org: OrgAdmin, body: PhoneOfflineBody, context: Context
) -> PhoneOfflineResult:
    """Turn the policy on (or change it). Agents whose phone is unregistered now while they
    take calls are given the whole ``seconds`` from now."""
    return _result(
        phone_registration.set_phone_offline(context.engine, org, body.seconds, body.status)
    )


@router.delete("/{org}/phone-offline", responses=NOT_FOUND)
def clear_phone_offline(org: OrgAdmin, context: Context) -> PhoneOfflineResult:
    """Off: no agent is moved for its phone (deadlines planned are dropped)."""
    phone_registration.clear_phone_offline(context.engine, org)
    return _result(None)
