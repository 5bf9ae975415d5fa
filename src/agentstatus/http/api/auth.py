"""Bearer-token authentication and the role and organisation checks routes declare.

No token, or an unknown or revoked one, is 401 with ``WWW-Authenticate: Bearer``. A valid
token without the role, or scoped to another organisation, is 403 (never 404, whether or
not that organisation exists, so a scoped token learns nothing about other tenants).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agentstatus.http.api.dependencies import Context
from agentstatus.service.tokens import Role, TokenInfo, verify_token

ORG_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

bearer = HTTPBearer(
    auto_error=False,
    description="A token made with `agentstatus token create --role admin|supervisor`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
OrgName = Annotated[str, Path(pattern=ORG_NAME_PATTERN, description="The organisation's name.")]


def _unauthenticated(detail: str, challenge: str = "Bearer") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(403, detail)


async def current_token(context: Context, credentials: Credentials) -> TokenInfo:
    """The caller's token, looked up in a thread (the loop's executor costs the event loop
    less per request than FastAPI's threadpool: thousands of streams connect at once)."""
    if credentials is None:
        raise _unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    info = await asyncio.to_thread(verify_token, context.engine, credentials.credentials)
    if info is None:
        raise _unauthenticated(
            "the bearer token is unknown or revoked", 'Bearer error="invalid_token"'
        )
    return info


CurrentToken = Annotated[TokenInfo, Depends(current_token)]


async def admin_token(token: CurrentToken) -> TokenInfo:
    if token.role is not Role.ADMIN:
        raise _forbidden("this needs an admin token")
    return token


AdminToken = Annotated[TokenInfo, Depends(admin_token)]


async def all_organisations_admin(token: AdminToken) -> TokenInfo:
    if token.org is not None:
        raise _forbidden("this needs an admin token for all organisations")
    return token


AllOrganisationsAdmin = Annotated[TokenInfo, Depends(all_organisations_admin)]


def _check_scope(token: TokenInfo, org: str) -> str:
    if not token.may_access(org):
        raise _forbidden("this token is scoped to another organisation")
    return org


async def org_access(org: OrgName, token: CurrentToken) -> str:
    """The organisation of the path, which the token (any role) may read."""
    return _check_scope(token, org)


async def org_admin(org: OrgName, token: AdminToken) -> str:
    """The organisation of the path, which the token may manage (admin role)."""
    return _check_scope(token, org)


OrgAccess = Annotated[str, Depends(org_access)]
OrgAdmin = Annotated[str, Depends(org_admin)]
