"""The bearer token of a native-API request, checked once for the FastAPI routes
(``http/api/auth.py``) and the raw event stream alike: the same checks, the same answers.

No token, or an unknown or revoked one, is 401 with ``WWW-Authenticate: Bearer``. A valid
token scoped to another organisation is 403 (never 404, whether or not that organisation
exists, so a scoped token learns nothing about other tenants).
"""

from __future__ import annotations

from agentstatus.http.errors import Forbidden, Unauthenticated
from agentstatus.service.tokens import TokenInfo, verify_token
from agentstatus.storage.types import Engine

NO_TOKEN = "a bearer token is required (Authorization: Bearer <token>)"  # noqa: S105
BAD_TOKEN = "the bearer token is unknown or revoked"  # noqa: S105
OTHER_ORG = "this token is scoped to another organisation"


def token_in(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(NO_TOKEN)
    return token.strip()


def check_token(engine: Engine, token: str) -> TokenInfo:
    """The token's grant; blocks on the database (call it in a thread)."""
    info = verify_token(engine, token)
    if info is None:
        raise Unauthenticated(BAD_TOKEN, 'Bearer error="invalid_token"')
    return info


def check_scope(info: TokenInfo, org: str) -> None:
    if not info.may_access(org):
        raise Forbidden(OTHER_ORG)
