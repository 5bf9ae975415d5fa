"""Bearer-token authentication and the role and organisation checks routes declare, as
FastAPI dependencies on the checks of ``http/bearer.py``. A valid token without the role
is 403, as one scoped to another organisation.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agentstatus.http.api.dependencies import Context
from agentstatus.http.bearer import NO_TOKEN, check_scope, check_token
from agentstatus.http.errors import Forbidden, Unauthenticated
from agentstatus.service.tokens import Role, TokenInfo

ORG_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

bearer = HTTPBearer(
    auto_error=False,
    description="A token made with `agentstatus token create --role admin|supervisor`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
OrgName = Annotated[str, Path(pattern=ORG_NAME_PATTERN, description="The organisation's name.")]


async def current_token(context: Context, credentials: Credentials) -> TokenInfo:
    """The caller's token, looked up in a thread (the loop's executor costs the event loop
    less per request than FastAPI's threadpool: thousands of streams connect at once)."""
    if credentials is None:
        raise Unauthenticated(NO_TOKEN)
    return await asyncio.to_thread(check_token, context.engine, credentials.credentials)


CurrentToken = Annotated[TokenInfo, Depends(current_token)]


async def admin_token(token: CurrentToken) -> TokenInfo:
    if token.role is not Role.ADMIN:
        raise Forbidden("this needs an admin token")
    return token


AdminToken = Annotated[TokenInfo, Depends(admin_token)]


async def all_organisations_admin(token: AdminToken) -> TokenInfo:
    if token.org is not None:
        raise Forbidden("this needs an admin token for all organisations")
    return token


AllOrganisationsAdmin = Annotated[TokenInfo, Depends(all_organisations_admin)]


def _check_scope(token: TokenInfo, org: str) -> str:
    check_scope(token, org)
    return org


async def org_access(org: OrgName, token: CurrentToken) -> str:
    """The organisation of the path, which the token (any role) may read."""
    return _check_scope(token, org)


async def org_admin(org: OrgName, token: AdminToken) -> str:
    """The organisation of the path, which the token may manage (admin role)."""
    return _check_scope(token, org)


OrgAccess = Annotated[str, Depends(org_access)]
OrgAdmin = Annotated[str, Depends(org_admin)]
