"""Signing in through an OpenID provider (issue 26): ``/auth/oidc/start`` sends the browser
to the provider, ``/auth/oidc/callback`` takes it back, checks state (once), exchanges the
code and verifies the ID token, and opens the same server-side session a password does.

Every refusal is the sign-in page with a sentence saying why (never a 500) and an audit
row. The state is also kept in a short-lived HttpOnly cookie, so a callback is taken only
in the browser that started the sign-in (no one can sign a victim in as themselves).
"""

from __future__ import annotations

import asyncio
import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agentstatus.http.requests import resolve_client
from agentstatus.service.oidc_sign_in import (
    Failure,
    audit_failure,
    start,
    take,
    user_of,
    verified_email,
)
from agentstatus.service.web_sessions import open_session
from agentstatus.web import messages
from agentstatus.web.oidc_provider import OidcProvider, ProviderDown, TokenRefused
from agentstatus.web.pages.common import error_page
from agentstatus.web.pages.sign_in import form_page
from agentstatus.web.visitors import SESSION_COOKIE, context_of, safe_next, set_cookie

START_PATH = "/auth/oidc/start"
CALLBACK_PATH = "/auth/oidc/callback"
STATE_COOKIE = "agentstatus_oidc_state"
STATE_COOKIE_SECONDS = 600

_MESSAGES = {
    Failure.STATE: (messages.OIDC_STATE, 400),
    Failure.PROVIDER: (messages.OIDC_PROVIDER, 503),
    Failure.TOKEN: (messages.OIDC_TOKEN, 401),
    Failure.UNVERIFIED: (messages.OIDC_UNVERIFIED, 403),
    Failure.UNKNOWN_USER: (messages.OIDC_UNKNOWN_USER, 403),
    Failure.NO_ROLE: (messages.OIDC_NO_ROLE, 403),
}


def provider_of(request: Request) -> OidcProvider | None:
    found: OidcProvider | None = request.app.state.oidc
    return found


def redirect_uri(request: Request) -> str:
    return context_of(request).base_url(request) + CALLBACK_PATH


async def _refused(request: Request, failure: Failure, who: str | None) -> Response:
    context = context_of(request)
    address = resolve_client(request.scope, context.trusted_proxies)
    await asyncio.to_thread(audit_failure, context.engine, failure, who, address)
    message, status = _MESSAGES[failure]
    return form_page(request, "", "/", message, status)


async def start_sign_in(request: Request) -> Response:
    provider = provider_of(request)
    if provider is None:
        return error_page(request, 404, messages.NO_SUCH_PAGE)
    target = safe_next(request.query_params.get("next"))
    context = context_of(request)
    started = await asyncio.to_thread(start, context.engine, target)
    try:
        url = await provider.authorization_url(redirect_uri(request), started)
    except ProviderDown:
        return await _refused(request, Failure.PROVIDER, None)
    response = RedirectResponse(url, status_code=303)
    set_cookie(request, response, STATE_COOKIE, started.state, max_age=STATE_COOKIE_SECONDS)
    return response


async def callback(request: Request) -> Response:
    provider = provider_of(request)
    if provider is None:
        return error_page(request, 404, messages.NO_SUCH_PAGE)
    context = context_of(request)
    params = request.query_params
    state = params.get("state") or ""
    cookie = request.cookies.get(STATE_COOKIE) or ""
    # Taken (deleted) first, whatever follows: a state is good for one callback only.
    pending = await asyncio.to_thread(take, context.engine, state)
    if pending is None or not hmac.compare_digest(cookie.encode(), state.encode()):
        return await _refused(request, Failure.STATE, None)
    code = params.get("code")
    if params.get("error") or not code:
        return await _refused(request, Failure.PROVIDER, None)
    try:
        claims = await provider.claims(code, redirect_uri(request), pending)
    except ProviderDown:
        return await _refused(request, Failure.PROVIDER, None)
    except TokenRefused:
        return await _refused(request, Failure.TOKEN, None)
    user = await asyncio.to_thread(user_of, context.engine, claims, provider.role_claim)
    if isinstance(user, Failure):
        return await _refused(request, user, verified_email(claims))
    secret = await asyncio.to_thread(open_session, context.engine, user)
    response = RedirectResponse(pending.next_path, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret)
    response.delete_cookie(STATE_COOKIE, path="/")
    return response
