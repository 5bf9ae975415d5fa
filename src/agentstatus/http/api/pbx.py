"""An organisation's phone system (Asterisk or FreeSWITCH): set, show, turn off."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from agentstatus.domain.pbx_config import PbxConfigError, make_config
from agentstatus.http.api.auth import OrgAdmin
from agentstatus.http.api.dependencies import Context, WebhookSecretBox
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.models import RequestBody
from agentstatus.service import pbx_settings
from agentstatus.service.errors import InvalidInput, NotFound

router = APIRouter(
    prefix="/orgs/{org}/pbx", tags=["pbx"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class PbxSettings(RequestBody):
    kind: Literal["asterisk", "freeswitch"]
    host: str = Field(max_length=253, description="The phone system's host name or address.")
    port: int | None = Field(None, ge=1, le=65535, description="Default: 5038 or 8021.")
    secret: str | None = Field(
        None,
        max_length=256,
        description="The AMI secret or event-socket password: needed the first time; "
        "null keeps the stored one. Never shown again.",
    )
    queues: list[str] = Field(min_length=1, max_length=20)
    username: str | None = Field(None, max_length=80, description="Asterisk: the AMI user.")
    interface: str | None = Field(None, max_length=200, description="Asterisk: PJSIP/{extension}")
    state_interface: str | None = Field(None, max_length=200)
    agent: str | None = Field(None, max_length=200, description="FreeSWITCH: {user_id}")
    contact: str | None = Field(None, max_length=200, description="FreeSWITCH: user/{extension}")


@router.get("")
def show_pbx(org: OrgAdmin, context: Context) -> dict[str, Any]:
    """The phone system and its connection: connected or not, the last error, the last
    reconcile (seats checked, differences repaired), commands sent. Never the secret."""
    found = pbx_settings.pbx_state(context.engine, org)
    if found is None:
        raise NotFound(f"{org!r} has no phone system")
    return found.as_json()


@router.put("")
async def set_pbx(
    org: OrgAdmin, body: PbxSettings, box: WebhookSecretBox, context: Context
) -> dict[str, Any]:
    """Connect the organisation to its phone system (or change the settings): the instance
    holding the connection reconnects within a lease check and repairs the queues."""
    try:
        config = make_config(
            body.kind,
            body.host,
            port=body.port,
            queues=body.queues,
            username=body.username,
            interface=body.interface,
            state_interface=body.state_interface,
            agent=body.agent,
            contact=body.contact,
        )
    except PbxConfigError as exc:
        raise InvalidInput(str(exc)) from None
    saved = await run_in_threadpool(
        pbx_settings.set_pbx,
        context.engine,
        box,
        org,
        config,
        body.secret,
        outbound=context.settings.outbound_policy(),
    )
    return saved.as_json()


@router.delete("", status_code=204)
def remove_pbx(org: OrgAdmin, context: Context) -> Response:
    """Disconnect from the phone system; its queues are left as they are."""
    pbx_settings.remove_pbx(context.engine, org)
    return Response(status_code=204)
