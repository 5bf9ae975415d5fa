"""Links to an organisation's wall, for a screen no one signs in to (admin tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from agentstatus.http.api.auth import CurrentToken, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.integers import LinkId
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import wall_links
from agentstatus.service.wall_links import LIFETIME, MAX_LABEL, WallLink

router = APIRouter(prefix="/orgs/{org}", tags=["wall"], responses={**AUTH_RESPONSES, **NOT_FOUND})


class WallLinkCreate(RequestBody):
    label: str = Field(
        "", max_length=MAX_LABEL, description="What shows the wall, e.g. the TV by the door."
    )
    ttl_seconds: int | None = Field(
        None,
        ge=LIFETIME.minimum,
        le=LIFETIME.maximum,
        description="How long the link lasts: default 30 days, at most 365 days.",
    )


class WallLinkInfo(ResponseBody):
    id: int
    label: str
    created_at: str
    created_by: str | None = Field(
        description="Who made it: a token's label, a web user's e-mail, cli:LOGIN."
    )
    expires_at: str
    revoked_at: str | None
    revoked_by: str | None


class CreatedWallLink(WallLinkInfo):
    url: str = Field(
        description="The wall's address with the link's token in its fragment (shown only in "
        "this answer): open it on the screen. Keep it secret."
    )


def _info(link: WallLink) -> WallLinkInfo:
    return WallLinkInfo.model_validate(link.as_json())


@router.post("/wall-links", status_code=201)
async def create_wall_link(
    org: OrgAdmin,
    context: Context,
    token: CurrentToken,
    request: Request,
    response: Response,
    body: WallLinkCreate | None = None,
) -> CreatedWallLink:
    """A read-only link to the organisation's wall: it shows the wall and nothing else."""
    wanted = body or WallLinkCreate()
    created = await run_in_threadpool(
        wall_links.create_link,
        context.engine,
        org,
        wanted.label,
        wanted.ttl_seconds,
        token.actor,
    )
    response.headers["Cache-Control"] = "no-store"
    url = wall_links.wall_url(context.base_url(request), org, created.token)
    return CreatedWallLink(**_info(created.link).model_dump(), url=url)


@router.get("/wall-links")
def list_wall_links(
    org: OrgAdmin,
    context: Context,
    ended: bool = Query(False, description="Also the revoked and expired links."),
) -> list[WallLinkInfo]:
    """The organisation's links still valid, oldest first (never their tokens)."""
    return [_info(k) for k in wall_links.list_links(context.engine, org, ended=ended)]


@router.delete("/wall-links", status_code=204)
def revoke_wall_links(org: OrgAdmin, context: Context, token: CurrentToken) -> None:
    """Revoke every link of the organisation; their walls stop within seconds."""
    wall_links.revoke_all(context.engine, org, token.actor)


@router.delete("/wall-links/{link_id}", status_code=204)
def revoke_wall_link(org: OrgAdmin, link_id: LinkId, context: Context, token: CurrentToken) -> None:
    """Revoke one link (again: no change); its wall stops within seconds."""
    wall_links.revoke_link(context.engine, org, link_id, token.actor)
