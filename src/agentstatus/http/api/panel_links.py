"""Links to the agent's status panel, for the CRM's back end to hand to one agent's
browser (admin tokens), and the origins that may embed the panel."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from agentstatus.domain.clock import to_iso
from agentstatus.http.api.auth import OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.integers import LinkId
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import embed_origins, panel_links
from agentstatus.service.panel_links import MAX_TTL_SECONDS, MIN_TTL_SECONDS, PanelLink

router = APIRouter(prefix="/orgs/{org}", tags=["panel"], responses={**AUTH_RESPONSES, **NOT_FOUND})


class PanelLinkCreate(RequestBody):
    extension: str | None = Field(
        None, description="Fix the extension the agent logs in at; null lets the agent choose."
    )
    ttl_seconds: int | None = Field(
        None,
        ge=MIN_TTL_SECONDS,
        le=MAX_TTL_SECONDS,
        description="How long the link lasts: default 12 hours, at most 7 days.",
    )


class PanelLinkInfo(ResponseBody):
    id: int
    user_id: str
    extension: str | None
    created_at: str
    expires_at: str


class CreatedPanelLink(PanelLinkInfo):
    url: str = Field(
        description="The panel's address for this agent, with its token (shown only in this "
        "answer): the src of an iframe or the link of <agentstatus-panel>. Keep it secret."
    )


class EmbedOrigins(RequestBody):
    origins: list[str] | None = Field(
        description="Origins (https://crm.example.com) that may frame the panel or call it "
        "from script; null or an empty list: none may."
    )


class EmbedOriginsResult(ResponseBody):
    origins: list[str]


def _info(link: PanelLink) -> PanelLinkInfo:
    return PanelLinkInfo(
        id=link.id,
        user_id=link.user_id,
        extension=link.extension,
        created_at=to_iso(link.created_ms),
        expires_at=to_iso(link.expires_ms),
    )


@router.post("/agents/{user_id:path}/panel-links", status_code=201)
async def create_panel_link(
    org: OrgAdmin,
    user_id: str,
    context: Context,
    request: Request,
    response: Response,
    body: PanelLinkCreate | None = None,
) -> CreatedPanelLink:
    """A link to the status panel of one agent: it can see and change that agent only."""
    wanted = body or PanelLinkCreate()
    created = await run_in_threadpool(
        panel_links.create_link,
        context.engine,
        org,
        user_id,
        wanted.extension,
        wanted.ttl_seconds,
    )
    response.headers["Cache-Control"] = "no-store"
    url = panel_links.panel_url(context.base_url(request), org, created.token)
    return CreatedPanelLink(**_info(created.link).model_dump(), url=url)


@router.get("/agents/{user_id:path}/panel-links")
def list_panel_links(org: OrgAdmin, user_id: str, context: Context) -> list[PanelLinkInfo]:
    """The agent's links still valid (never their tokens)."""
    return [_info(link) for link in panel_links.list_links(context.engine, org, user_id)]


@router.delete("/agents/{user_id:path}/panel-links", status_code=204)
def revoke_panel_links(org: OrgAdmin, user_id: str, context: Context) -> None:
    """Revoke every link of the agent; their panels stop within seconds."""
    panel_links.revoke_links_of(context.engine, org, user_id)


@router.delete("/panel-links/{link_id}", status_code=204)
def revoke_panel_link(org: OrgAdmin, link_id: LinkId, context: Context) -> None:
    """Revoke one link; its panels stop within seconds."""
    panel_links.revoke_link(context.engine, org, link_id)


@router.get("/embed-origins")
def get_embed_origins(org: OrgAdmin, context: Context) -> EmbedOriginsResult:
    """The origins that may embed the panel."""
    return EmbedOriginsResult(origins=embed_origins.embed_origins(context.engine, org))


@router.put("/embed-origins")
def set_embed_origins(org: OrgAdmin, body: EmbedOrigins, context: Context) -> EmbedOriginsResult:
    """Replace the origins that may embed the panel (written as browsers send ``Origin``)."""
    found = embed_origins.set_embed_origins(context.engine, org, body.origins)
    return EmbedOriginsResult(origins=found)
