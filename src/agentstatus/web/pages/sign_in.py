"""Signing in and out. A failed sign-in counts against the address like a wrong Code
(the same limiter), and the answer never says whether the e-mail exists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agentstatus.http.ratelimit import Refusal
from agentstatus.http.requests import resolve_client
from agentstatus.service.users import authenticate
from agentstatus.service.web_sessions import close_session, open_session
from agentstatus.web import messages
from agentstatus.web.pages.common import pages_of
from agentstatus.web.visitors import (
    SESSION_COOKIE,
    context_of,
    language_of,
    safe_next,
    set_cookie,
    visitor,
)

MAX_FIELD = 1024
# A sign-in waits for one of the password checks (service/passwords.py) this long at most,
# behind at most this many others; past either it is told to try again (503, Retry-After)
# rather than wait behind a burst of failing sign-ins (a real one waited 29 s behind 100).
WAIT_SECONDS = 5.0
MAX_WAITING = 32
RETRY_AFTER_SECONDS = 5


class Busy(Exception):
    """No password check could be had in time."""


class PasswordQueue:
    """At most ``concurrent`` password checks at once, and a bounded wait for one."""

    def __init__(self, concurrent: int, max_waiting: int = MAX_WAITING) -> None:
        self._slots = asyncio.Semaphore(concurrent)
        self.max_waiting = max_waiting
        self.waiting = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.waiting >= self.max_waiting:
            raise Busy
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), WAIT_SECONDS)
        except TimeoutError:
            raise Busy from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


def form_page(
    request: Request, email: str, target: str, error: str | None, status: int
) -> Response:
    """The sign-in page: the password form (unless turned off) and the provider's button."""
    code = language_of(request)
    pages = pages_of(request)
    settings = context_of(request).settings
    provider = request.app.state.oidc
    return pages.render(
        code,
        "sign_in.html",
        {
            "visitor": None,
            "here": "/sign-in",
            "return_to": "/sign-in" + ("" if target == "/" else f"?next={quote(target, safe='')}"),
            "email": email,
            "next": target,
            "error": pages.gettext(code, error) if error else None,
            "password_form": settings.password_sign_in,
            "oidc_name": None if provider is None else provider.name,
            "oidc_start": "/auth/oidc/start"
            + ("" if target == "/" else f"?next={quote(target, safe='')}"),
        },
        status_code=status,
    )


async def sign_in_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await visitor(request) is not None:
        return RedirectResponse(target, status_code=303)
    return form_page(request, "", target, None, 200)


async def sign_in(request: Request) -> Response:
    context = context_of(request)
    if not context.settings.password_sign_in:
        return form_page(request, "", "/", messages.PASSWORD_SIGN_IN_OFF, 403)
    form = await request.form(max_files=0, max_fields=8)
    email = str(form.get("email") or "")[:MAX_FIELD]
    password = str(form.get("password") or "")[:MAX_FIELD]
    target = safe_next(str(form.get("next") or ""))
    address = resolve_client(request.scope, context.trusted_proxies)
    # The limiter's trust is per secret: the pair, so one right password trusts only itself.
    ticket = await context.limiter.admit(address, f"\0sign-in\0{email.lower()}\0{password}")
    if isinstance(ticket, Refusal):
        limited = form_page(request, email, target, messages.SIGN_IN_LIMITED, 429)
        limited.headers["retry-after"] = str(max(1, ticket.retry_after))
        return limited
    queue: PasswordQueue = request.app.state.password_checks
    try:
        # Password checks wait here, not in the threads everything else shares.
        async with queue.turn():
            user = await asyncio.to_thread(authenticate, context.engine, email, password)
    except Busy:
        context.limiter.abandoned(ticket)  # not a failure: nothing was checked
        busy = form_page(request, email, target, messages.SIGN_IN_BUSY, 503)
        busy.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return busy
    except Exception:
        context.limiter.abandoned(ticket)
        raise
    if user is None:
        await context.limiter.failed(ticket)
        return form_page(request, email, target, messages.WRONG_PASSWORD, 401)
    context.limiter.authenticated(ticket)
    secret = await asyncio.to_thread(open_session, context.engine, user)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret)
    return response


async def sign_out(request: Request) -> Response:
    context = context_of(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await asyncio.to_thread(close_session, context.engine, secret)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
