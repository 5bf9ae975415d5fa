"""Who is looking at a page: the session cookie read, checked and refreshed, the page's
language, and where to send someone who is not signed in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agentstatus.http.context import AppContext
from agentstatus.http.requests import is_https
from agentstatus.service.users import User
from agentstatus.service.web_sessions import session_user
from agentstatus.web.i18n import LANGUAGE_COOKIE, choose

SESSION_COOKIE = "agentstatus_session"


@dataclass(frozen=True, slots=True)
class Visitor:
    user: User
    session_id: int
    secret: str


def context_of(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def language_of(request: Request) -> str:
    return choose(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


async def visitor(request: Request) -> Visitor | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    context = context_of(request)
    idle_ms = int(context.settings.session_idle_seconds * 1000)
    found = await asyncio.to_thread(session_user, context.engine, secret, idle_ms)
    if found is None:
        return None
    return Visitor(found[0], found[1], secret)


def sign_in_first(request: Request) -> Response:
    """A 303 to the sign-in page, which comes back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 for ch in value):
        return "/"
    return value


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    context = context_of(request)
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope, context.trusted_proxies),
    )
