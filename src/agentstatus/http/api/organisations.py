"""Organisations: create (admin for all organisations), list, rotate the Code, and set
the address allow-list. A Code is in the answer once, when it is made, and never again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response
from pydantic import Field

from agentstatus.domain.clock import to_iso
from agentstatus.http.api.auth import AllOrganisationsAdmin, CurrentToken, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, CONFLICT, NOT_FOUND
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import organisations

router = APIRouter(prefix="/orgs", tags=["organisations"], responses=AUTH_RESPONSES)


class OrganisationCreate(RequestBody):
    name: str = Field(description="1-64 letters, digits, '_' or '-'.")
    code: str | None = Field(None, description="Use this Code instead of a generated one.")


class CodeRotation(RequestBody):
    code: str | None = Field(None, description="Use this Code instead of a generated one.")


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


@router.post("", status_code=201, responses=CONFLICT)
def create_organisation(
    body: OrganisationCreate, context: Context, token: AllOrganisationsAdmin, response: Response
) -> OrganisationCode:
    """Create an organisation with the default status catalogue."""
    created = organisations.create_organisation(context.engine, body.name, body.code)
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


@router.post("/{org}/rotate-code", responses={**NOT_FOUND, **CONFLICT})
def rotate_code(
    org: OrgAdmin,
    context: Context,
    response: Response,
    body: Annotated[CodeRotation | None, Body()] = None,
) -> OrganisationCode:
    """Replace the Code (generated unless given); the old one stops working at once."""
    rotated = organisations.rotate_code(context.engine, org, body.code if body else None)
    _no_store(response)
    return OrganisationCode.model_validate(rotated)


@router.put("/{org}/allowlist", responses=NOT_FOUND)
def set_allowlist(org: OrgAdmin, body: Allowlist, context: Context) -> AllowlistResult:
    """Replace the address allow-list of the Voicenter-compatible endpoints."""
    return AllowlistResult(allowlist=organisations.set_allowlist(context.engine, org, body.entries))
