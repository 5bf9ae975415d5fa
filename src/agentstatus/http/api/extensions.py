"""Extensions of an organisation: list (any role), add, remove and import from CSV (admin).
Removing an extension logs out the agent holding it, recorded with source ``admin``."""

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
from agentstatus.service import extensions

router = APIRouter(
    prefix="/orgs/{org}/extensions",
    tags=["extensions"],
    responses={**AUTH_RESPONSES, **NOT_FOUND},
)


class Extension(ResponseBody):
    extension: str
    name: str
    held_by: str | None = Field(None, description="The user id of the agent logged in there.")


class ExtensionCreate(RequestBody):
    extension: str = Field(description="The ExtensionUser the CRM sends; no spaces.")
    name: str | None = None


@router.get("")
def list_extensions(org: OrgAccess, context: Context) -> list[Extension]:
    """Every extension, and who holds it."""
    return [Extension.model_validate(e) for e in extensions.list_extensions(context.engine, org)]


@router.post("", status_code=201, responses=CONFLICT)
def add_extension(org: OrgAdmin, body: ExtensionCreate, context: Context) -> Extension:
    """Add an extension."""
    created = extensions.add_extension(context.engine, org, body.extension, body.name)
    return Extension.model_validate(created)


@router.delete("/{extension:path}", status_code=204, responses=UNAVAILABLE)
async def remove_extension(
    org: OrgAdmin, extension: str, context: Context, token: CurrentToken
) -> None:
    """Remove an extension, logging out the agent holding it."""
    await extensions.remove_extension(
        context.changes, context.engine, org, extension, actor=token.actor
    )


@router.post("/import", openapi_extra=csv_request_body("extension,name"), responses=IMPORT_REJECTED)
async def import_extensions(org: OrgAdmin, csv_text: CsvText, context: Context) -> ImportResult:
    """Create the file's extensions; those already present get the file's name."""
    summary = await run_in_threadpool(extensions.import_extensions, context.engine, org, csv_text)
    return ImportResult.model_validate(summary)
