"""An organisation's missed-calls rule (SPEC 8): after N calls in a row offered to an agent
and not answered, the agent goes to a chosen status that takes no calls."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from agentstatus.domain.missed_calls import DEFAULT_STATUS, MAX_COUNT, MissedCallsRule
from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import missed_calls

router = APIRouter(
    prefix="/orgs/{org}/missed-calls",
    tags=["organisations"],
    responses={**AUTH_RESPONSES, **NOT_FOUND},
)


class MissedCallsBody(RequestBody):
    count: int = Field(ge=1, le=MAX_COUNT, description="Calls in a row offered and not answered.")
    status: int | None = Field(
        None,
        description=f"The status to go to: enabled, taking no calls, not Logout (else 422). "
        f"Default {DEFAULT_STATUS}, Other.",
    )


class MissedCallsResult(ResponseBody):
    count: int | None = Field(description="null: off (missed calls are still recorded).")
    status: int | None


def _result(rule: MissedCallsRule | None) -> MissedCallsResult:
    if rule is None:
        return MissedCallsResult(count=None, status=None)
    return MissedCallsResult(count=rule.count, status=rule.status)


@router.get("")
def get_missed_calls(org: OrgAccess, context: Context) -> MissedCallsResult:
    """The rule; `count` null when it is off."""
    return _result(missed_calls.get_rule(context.engine, org))


@router.put("")
def set_missed_calls(org: OrgAdmin, body: MissedCallsBody, context: Context) -> MissedCallsResult:
    """After `count` missed calls in a row, an agent in a status that takes calls goes to
    `status` (source `pbx`, reason `missed-calls`); any change or answered call starts the
    count again. Every missed call is an `agent.missed_call` event, rule or not."""
    return _result(missed_calls.set_rule(context.engine, org, body.count, body.status))


@router.delete("")
def clear_missed_calls(org: OrgAdmin, context: Context) -> MissedCallsResult:
    """Off: nobody is moved for missed calls (they are still recorded)."""
    missed_calls.clear_rule(context.engine, org)
    return _result(None)
