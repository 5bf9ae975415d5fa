"""Organisations: create (admin for all organisations), list, rotate the Code, and set
the address allow-list. A Code is in the answer once, when it is made, and never again."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from agentstatus.domain.clock import to_iso
from agentstatus.domain.codes import STRONG_RULE
from agentstatus.http.api.auth import AllOrganisationsAdmin, CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.custom_codes import with_custom_code
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, CONFLICT, CUSTOM_CODE_LIMITED, NOT_FOUND
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import organisations, policies

router = APIRouter(prefix="/orgs", tags=["organisations"], responses=AUTH_RESPONSES)


CUSTOM_CODE = (
    f"Use this Code instead of a generated one. It must be {STRONG_RULE} (else 422). Each "
    "custom Code sent counts, accepted or not, as a failed authentication of the sender's "
    "address, against the wire's allowance (429 with Retry-After past it). A Code the "
    "server cannot use (e.g. one already in use) is 409, without saying why. The command "
    "line accepts any Code."
)


class OrganisationCreate(RequestBody):
    name: str = Field(description="1-64 letters, digits, '_' or '-'.")
    code: str | None = Field(None, description=CUSTOM_CODE)


class CodeRotation(RequestBody):
    code: str | None = Field(None, description=CUSTOM_CODE)


class OrganisationCode(ResponseBody):
    """The organisation's Code in clear: shown only in this answer; keep it secret."""

    name: str
    code: str


class Organisation(ResponseBody):
    name: str
    agents: int
    extensions: int
    allowlist: list[str] | None = Field(description="null: every address may call.")
    created: str = Field(description="UTC, ISO 8601.")


class Allowlist(RequestBody):
    entries: list[str] | None = Field(
        description="Addresses and CIDR ranges; null or an empty list removes the allow-list."
    )


class AllowlistResult(ResponseBody):
    allowlist: list[str] | None = Field(description="null: every address may call.")


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


@router.post("", status_code=201, responses={**CONFLICT, **CUSTOM_CODE_LIMITED})
async def create_organisation(
    body: OrganisationCreate,
    context: Context,
    token: AllOrganisationsAdmin,
    request: Request,
    response: Response,
) -> OrganisationCode:
    """Create an organisation with the default status catalogue."""
    engine, name, code = context.engine, body.name, body.code
    if code is None:
        created = await run_in_threadpool(organisations.create_organisation, engine, name)
    else:
        created = await with_custom_code(
            context, request, code, lambda: organisations.create_organisation(engine, name, code)
        )
    _no_store(response)
    return OrganisationCode.model_validate(created)


@router.get("")
def list_organisations(context: Context, token: CurrentToken) -> list[Organisation]:
    """Every organisation (any role); a scoped token sees only its own."""
    return [
        Organisation(
            name=o.name,
            agents=o.agents,
            extensions=o.extensions,
            allowlist=o.allowlist,
            created=to_iso(o.created_ms),
        )
        for o in organisations.list_organisations(context.engine)
        if token.may_access(o.name)
    ]


@router.post("/{org}/rotate-code", responses={**NOT_FOUND, **CONFLICT, **CUSTOM_CODE_LIMITED})
async def rotate_code(
    org: OrgAdmin,
    context: Context,
    request: Request,
    response: Response,
    body: Annotated[CodeRotation | None, Body()] = None,
) -> OrganisationCode:
    """Replace the Code (generated unless given); the old one stops working at once."""
    engine, code = context.engine, body.code if body else None
    if code is None:
        rotated = await run_in_threadpool(organisations.rotate_code, engine, org)
    else:
        rotated = await with_custom_code(
            context, request, code, lambda: organisations.rotate_code(engine, org, code)
        )
    _no_store(response)
    return OrganisationCode.model_validate(rotated)


@router.put("/{org}/allowlist", responses=NOT_FOUND)
def set_allowlist(org: OrgAdmin, body: Allowlist, context: Context) -> AllowlistResult:
    """Replace the address allow-list of the Voicenter-compatible endpoints."""
    return AllowlistResult(allowlist=organisations.set_allowlist(context.engine, org, body.entries))


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ShiftEndBody(RequestBody):
    time: str = Field(description="HH:MM, 24-hour, in the organisation's time zone.")
    days: list[Weekday] | None = Field(None, description="Weekdays; default every day.")


class ShiftEndResult(ResponseBody):
    time: str | None = Field(description="null: no end of the shift.")
    days: list[Weekday] | None
    next: str | None = Field(description="When it next logs everyone out (UTC).")


def _shift_result(setting: policies.ShiftSetting) -> ShiftEndResult:
    if setting.shift is None:
        return ShiftEndResult(time=None, days=None, next=None)
    return ShiftEndResult(
        time=setting.shift.time,
        days=cast(list[Weekday], setting.shift.day_names),
        next=None if setting.next_ms is None else to_iso(setting.next_ms),
    )


@router.get("/{org}/shift-end", responses=NOT_FOUND)
def get_shift_end(org: OrgAccess, context: Context) -> ShiftEndResult:
    """The end of the shift, and when it next acts."""
    return _shift_result(policies.get_shift_end(context.engine, org))


@router.put("/{org}/shift-end", responses=NOT_FOUND)
def set_shift_end(org: OrgAdmin, body: ShiftEndBody, context: Context) -> ShiftEndResult:
    """At this time every agent still logged in is logged out (source system)."""
    days = None if body.days is None else ",".join(body.days)
    return _shift_result(policies.set_shift_end(context.engine, org, body.time, days))


@router.delete("/{org}/shift-end", responses=NOT_FOUND)
def clear_shift_end(org: OrgAdmin, context: Context) -> ShiftEndResult:
    """No end of the shift."""
    return _shift_result(policies.set_shift_end(context.engine, org, None))
