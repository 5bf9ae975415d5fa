"""Logins to Voicenter's real-time monitor (``/monitorAPI/Login/...``): listing an
organisation's and revoking one (admin or supervisor of the organisation). Revoking ends
the login's sockets within seconds; its tokens stop working at once."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from agentstatus.http.api.auth import CurrentToken, OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.integers import LinkId
from agentstatus.http.api.models import ResponseBody
from agentstatus.service import monitor_login

router = APIRouter(
    prefix="/orgs/{org}", tags=["monitor"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)


class MonitorLoginInfo(ResponseBody):
    id: int
    made_from: str = Field(description="`token:ID` (an API token) or `user:ID` (a web user).")
    label: str = Field(description="The API token's label, or the web user's e-mail.")
    created_at: str
    socket_token_expires_at: str = Field(
        description="When its current socket token expires (a refresh makes a new one)."
    )
    refresh_token_expires_at: str = Field(
        description="When the login ends unless refreshed before."
    )


@router.get("/monitor-logins")
def list_monitor_logins(org: OrgAccess, context: Context) -> list[MonitorLoginInfo]:
    """The organisation's monitor logins still valid, oldest first (never their tokens)."""
    return [
        MonitorLoginInfo.model_validate(g.as_json())
        for g in monitor_login.list_logins(context.engine, org)
    ]


@router.delete("/monitor-logins/{login_id}", status_code=204)
def revoke_monitor_login(
    org: OrgAccess, login_id: LinkId, context: Context, token: CurrentToken
) -> None:
    """Revoke one monitor login (again: no change): its tokens stop working at once and
    its sockets end within seconds."""
    monitor_login.revoke_login(context.engine, org, login_id, token.actor)
