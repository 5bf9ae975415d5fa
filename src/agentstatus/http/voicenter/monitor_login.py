"""The HTTP half of Voicenter's real-time monitor (SPEC section 9, issue 25): the Events
SDK's login (``POST /monitorAPI/Login/Token`` and ``/Login/User``), its refresh
(``GET /monitorAPI/RefreshIdentityToken``) and the oldest SDK's server list
(``GET /monitorAPI/getMonitorUrls[/{token}]``). The socket itself is served at
``/socket.io/`` on the same port, so every address answered is the service's own.

Answers are the SDK's ``{"StatusCode", "Status", "Data"}``. The SDK takes HTTP 400, 401 and
403 or a JSON ``error`` field as a failure (it never reads ``StatusCode``); failures carry
both. Every failed authentication counts against the client in the failed-authentication
limiter, as a wrong Code or a wrong sign-in does. A CRM's page calls these from its own
origin, so they answer CORS with ``*``: they take no cookies, only the secrets in the
request itself, so no other site gains anything a page could not do with those.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from agentstatus.domain.clock import to_iso
from agentstatus.http.context import AppContext
from agentstatus.http.ratelimit import Refusal
from agentstatus.http.requests import (
    BodyIncomplete,
    BodyTooLarge,
    header,
    read_body,
    resolve_client,
)
from agentstatus.http.responses import send_bytes
from agentstatus.service import monitor_login
from agentstatus.service.errors import Unavailable
from agentstatus.service.monitor_login import LoginRefusal, MonitorLogin
from agentstatus.wire.outcomes import Row
from agentstatus.wire.paths import route_key

log = logging.getLogger(__name__)

LOGIN_TOKEN = "/monitorAPI/Login/Token"  # noqa: S105 - a path, not a secret
LOGIN_USER = "/monitorAPI/Login/User"
REFRESH = "/monitorAPI/RefreshIdentityToken"
MONITOR_URLS = "/monitorAPI/getMonitorUrls"
MONITOR_URLS_PREFIX = route_key(MONITOR_URLS) + "/"
"""``getMonitorUrls/{token}``: the one path with a part of its own (the oldest SDK's)."""

SOCKET_IO_VERSION = "1.3.7"
"""The socket.io client the SDK must load: its bundle has only ``v1_3_7`` (any other
``Version`` throws ``Socket version v… not found``)."""
MAX_BODY = 4096
MAX_FIELD = 1024
# Password checks (Argon2, 64 MiB each) wait here, not in the threads everything else
# shares: at most this many at once (the hasher allows two in the whole process anyway),
# at most MAX_WAITING waiting, each at most WAIT_SECONDS; past that, 503 and Retry-After.
CONCURRENT_CHECKS = 2
MAX_WAITING = 32
WAIT_SECONDS = 5.0
BUSY_RETRY_AFTER = 5

# The success answer's StatusCode and Status. The SDK's types say only ``number`` and
# ``string`` and nothing in its repository records a real answer's values, nor does the
# SDK read them: these are the conventional ones.
OK_STATUS_CODE = 0
OK_STATUS = "OK"

WRONG_CREDENTIALS = "Unauthorized: the credentials are wrong, revoked or expired"
EVERY_ORGANISATION = (
    "Forbidden: these credentials are of every organisation, and the monitor shows one; "
    "log in with an API token or a web user scoped to one organisation"
)
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"cache-control", b"no-store"),
]
_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type"),
    (b"access-control-max-age", b"600"),
]

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class BadRequest(Exception):
    """The request cannot be read: 400 with this message."""


class _Answer(Exception):
    """Answer at once with this status and message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def failure_body(status: int, message: str) -> bytes:
    """A failure in the SDK's shape: its ``error`` field is what the SDK throws."""
    body = {"StatusCode": status, "Status": _REASONS[status], "error": message, "Data": None}
    return json.dumps(body).encode()


def login_body(made: MonitorLogin, base_url: str) -> bytes:
    """A login's (or a refresh's) answer: ``Data.Socket`` with both spellings the SDKs
    read (``Url`` by the TypeScript one, ``URL`` by the older JS one; ``PersonId`` and
    ``PersonID``), expiries as ISO-8601 UTC (the SDK does ``new Date(x)``)."""
    person = made.identity.person_id
    socket = {
        "Token": made.token,
        "TokenExpiry": to_iso(made.token_expires_ms),
        "RefreshToken": made.refresh_token,
        "RefreshTokenExpiry": to_iso(made.refresh_expires_ms),
        "PersonID": person,
        "PersonId": person,
        "Url": base_url,
        "URL": base_url,
        "URLList": [base_url],
        "Version": SOCKET_IO_VERSION,
        "Client": "",
    }
    body = {"StatusCode": OK_STATUS_CODE, "Status": OK_STATUS, "Data": {"Socket": socket}}
    return json.dumps(body).encode()


def monitor_urls_body(base_url: str) -> bytes:
    """The server list: this service (``Domain`` is host[:port], the SDK adds the scheme)."""
    domain = urlsplit(base_url).netloc
    servers = [{"URLID": 1, "Priority": 1, "Version": SOCKET_IO_VERSION, "Domain": domain}]
    return json.dumps(servers).encode()


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"the body needs {name!r}, a non-empty string")
    if len(value) > MAX_FIELD or "\0" in value:
        raise BadRequest(f"{name!r} is too long or holds a NUL character")
    return value


def read_fields(
    body: bytes, names: tuple[str, ...], aliases: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """The named strings of a JSON object body (or, when it has the first of ``aliases``
    and not the first of ``names``, those)."""
    try:
        fields = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(fields, dict):
        raise BadRequest("the body must be a JSON object")
    if aliases is not None and names[0] not in fields and aliases[0] in fields:
        names = aliases
    return tuple(_text(fields, name) for name in names)


def bearer(scope: Scope) -> str | None:
    """The ``Authorization: Bearer`` token, or None."""
    value = header(scope, b"authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class _PasswordTurns:
    """At most ``CONCURRENT_CHECKS`` password checks at once and a bounded wait for one."""

    def __init__(self) -> None:
        self._slots = asyncio.Semaphore(CONCURRENT_CHECKS)
        self.waiting = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.waiting >= MAX_WAITING:
            raise _Answer(503, "too many logins at once; try again", BUSY_RETRY_AFTER)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), WAIT_SECONDS)
        except TimeoutError:
            raise _Answer(503, "too many logins at once; try again", BUSY_RETRY_AFTER) from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


Attempt = Callable[[], Awaitable[bytes | LoginRefusal]]


class MonitorLoginEndpoints:
    """The four endpoints over one context (and one queue of password checks)."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.passwords = _PasswordTurns()

    def routes(self) -> dict[str, Handler]:
        return {
            route_key(LOGIN_TOKEN): self._endpoint("POST", self.login_token),
            route_key(LOGIN_USER): self._endpoint("POST", self.login_user),
            route_key(REFRESH): self._endpoint("GET", self.refresh),
            route_key(MONITOR_URLS): self._endpoint("GET", self.monitor_urls),
        }

    def _endpoint(
        self, method: str, serve: Callable[[Scope, Receive], Awaitable[bytes]]
    ) -> Handler:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            status, body, extra = 200, b"", list(_CORS)
            if scope["method"] == "OPTIONS":
                await send_bytes(send, 204, b"", extra_headers=[*_CORS, *_PREFLIGHT])
                return
            try:
                if scope["method"] != method:
                    extra.append((b"allow", f"{method}, OPTIONS".encode()))
                    raise _Answer(405, f"use {method}")
                body = await serve(scope, receive)
            except _Answer as answer:
                status, body = answer.status, failure_body(answer.status, str(answer))
                if answer.retry_after is not None:
                    extra.append((b"retry-after", str(max(1, answer.retry_after)).encode()))
            except Exception:
                # Never a 500 or a trace: the SDK retries a 503 like any failed login.
                log.exception("a monitor login failed")
                status, body = 503, failure_body(503, "the login failed; try again")
                extra.append((b"retry-after", b"1"))
            await send_bytes(send, status, body, extra_headers=extra)

        return handle

    async def _authenticate(self, scope: Scope, secret: str, attempt: Attempt) -> bytes:
        """``attempt`` behind the limiter: a refusal counts as a failure."""
        ctx = self.context
        address = resolve_client(scope, ctx.trusted_proxies)
        ticket = await ctx.limiter.admit(address, secret)
        if isinstance(ticket, Refusal):
            if ticket.row is Row.RATE_LIMITED:
                raise _Answer(429, "too many failed logins; try again later", ticket.retry_after)
            raise _Answer(503, "the service is busy; try again", ticket.retry_after)
        try:
            result = await self._attempt(attempt)
        except BaseException:
            ctx.limiter.abandoned(ticket)
            raise
        if result is LoginRefusal.WRONG_CREDENTIALS:
            await ctx.limiter.failed(ticket)
            raise _Answer(401, WRONG_CREDENTIALS)
        ctx.limiter.authenticated(ticket)
        if result is LoginRefusal.EVERY_ORGANISATION:
            raise _Answer(403, EVERY_ORGANISATION)
        assert isinstance(result, bytes)
        return result

    async def _attempt(self, attempt: Attempt) -> bytes | LoginRefusal:
        try:
            return await attempt()
        except Unavailable as exc:
            raise _Answer(503, str(exc), 1) from None

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        try:
            return await read_body(scope, receive, MAX_BODY)
        except BodyTooLarge:
            raise _Answer(400, f"the body is over {MAX_BODY} bytes") from None
        except BodyIncomplete:
            raise _Answer(400, "the body was cut short") from None

    def _fields(
        self, body: bytes, names: tuple[str, ...], aliases: tuple[str, ...] | None = None
    ) -> tuple[str, ...]:
        try:
            return read_fields(body, names, aliases)
        except BadRequest as exc:
            raise _Answer(400, str(exc)) from None

    def _base_url(self, scope: Scope) -> str:
        return self.context.base_url(Request(scope))

    def _lifetimes(self) -> dict[str, int]:
        settings = self.context.settings
        return {
            "token_seconds": settings.monitor_token_seconds,
            "refresh_seconds": settings.monitor_refresh_seconds,
        }

    def _answer(self, scope: Scope, made: MonitorLogin | LoginRefusal) -> bytes | LoginRefusal:
        return made if isinstance(made, LoginRefusal) else login_body(made, self._base_url(scope))

    async def login_token(self, scope: Scope, receive: Receive) -> bytes:
        (token,) = self._fields(await self._body(scope, receive), ("token",))

        async def attempt() -> bytes | LoginRefusal:
            made = await asyncio.to_thread(
                monitor_login.login_with_token, self.context.engine, token, **self._lifetimes()
            )
            return self._answer(scope, made)

        return await self._authenticate(scope, f"\0monitor-token\0{token}", attempt)

    async def login_user(self, scope: Scope, receive: Receive) -> bytes:
        # The older JS SDK sends {username, password} when its options name a username.
        body = await self._body(scope, receive)
        email, pin = self._fields(body, ("email", "pin"), ("username", "password"))

        async def attempt() -> bytes | LoginRefusal:
            async with self.passwords.turn():
                made = await asyncio.to_thread(
                    monitor_login.login_with_user,
                    self.context.engine,
                    email,
                    pin,
                    **self._lifetimes(),
                )
            return self._answer(scope, made)

        # The limiter's trust is per secret: the pair, as the sign-in page does. A login
        # refused for want of a turn checked nothing: its ticket is abandoned (not a failure).
        return await self._authenticate(scope, f"\0sign-in\0{email.lower()}\0{pin}", attempt)

    async def refresh(self, scope: Scope, receive: Receive) -> bytes:
        token = bearer(scope)
        if token is None:
            raise _Answer(401, "send the refresh token as Authorization: Bearer …")
        if len(token) > MAX_FIELD:
            raise _Answer(400, "the refresh token is too long")

        async def attempt() -> bytes | LoginRefusal:
            made = await asyncio.to_thread(
                monitor_login.refresh, self.context.engine, token, **self._lifetimes()
            )
            return self._answer(scope, made)

        return await self._authenticate(scope, f"\0monitor-refresh\0{token}", attempt)

    async def monitor_urls(self, scope: Scope, receive: Receive) -> bytes:
        base_url = self._base_url(scope)
        rest = scope["path"].rstrip("/")[len(MONITOR_URLS) :].strip("/")
        if not rest:
            return monitor_urls_body(base_url)
        if len(rest) > MAX_FIELD or "/" in rest:
            raise _Answer(400, "getMonitorUrls takes one token after it")
        token = rest

        async def attempt() -> bytes | LoginRefusal:
            refused = await asyncio.to_thread(monitor_login.known_token, self.context.engine, token)
            return monitor_urls_body(base_url) if refused is None else refused

        return await self._authenticate(scope, f"\0monitor-urls\0{token}", attempt)


class MonitorRoutes(dict[str, Handler]):
    """The Dispatcher's route table (:func:`route_key` → handler) with the one path that
    has a part of its own: ``getMonitorUrls/{token}`` is found by its prefix."""

    def __init__(self, routes: dict[str, Handler], by_prefix: dict[str, Handler]) -> None:
        super().__init__(routes)
        self.by_prefix = by_prefix

    def get(self, key: str, default: Handler | None = None) -> Handler | None:  # type: ignore[override]
        found = super().get(key)
        if found is not None:
            return found
        for prefix, handler in self.by_prefix.items():
            if key.startswith(prefix):
                return handler
        return default


def with_monitor_routes(context: AppContext, routes: dict[str, Handler]) -> MonitorRoutes:
    """``routes`` and the monitor's, as one table."""
    endpoints = MonitorLoginEndpoints(context)
    own = endpoints.routes()
    return MonitorRoutes({**routes, **own}, {MONITOR_URLS_PREFIX: own[route_key(MONITOR_URLS)]})
