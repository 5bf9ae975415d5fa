"""Who may embed the panel, and the headers that say so to the browser.

- The panel page may be framed by the organisation's embed origins only
  (``Content-Security-Policy: frame-ancestors``; none listed: ``'none'``).
- The panel's API answers script of those origins (CORS, without credentials: the token
  is a header, so no cookie is needed or sent); any other origin is refused with 403
  before the request reaches a handler, preflight or not.
- The script and its style sheet are public and load from any page.

Every answer carries ``Referrer-Policy: no-referrer``: nothing the panel loads or links
to learns the panel's address.

A refusal helps the integrator: a browser shows a refused frame as its own grey page and
hides a refused answer from the script, so the service remembers the origins it refused
(``RefusedOrigins``, shown on the organisation's settings page and logged), and answers
``/panel/{org}/api/embedding`` to any origin (no token, no preflight): whether the asking
origin is on the list, in words naming the origin and the command that adds it, which the
panel's script shows inside the element.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentstatus.domain.addresses import Network
from agentstatus.http.requests import header
from agentstatus.service.embed_origins import embed_origins
from agentstatus.service.errors import NotFound
from agentstatus.storage.types import Engine
from agentstatus.web.i18n import LANGUAGES, choose
from agentstatus.web.panel import texts
from agentstatus.web.security import same_origin
from agentstatus.web.templating import Pages

PANEL_PATH = re.compile(r"/panel/([A-Za-z0-9_-]{1,64})(/api/[a-z]+)?")
EXPLAIN = "/api/embedding"
ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?"
)
REFUSED_KEPT = 5
REFUSED_ORGS = 1000
log = logging.getLogger(__name__)
ASSETS = frozenset({"/panel/embed.js", "/panel/panel.css"})
# A changed list is obeyed within this time (on every instance): the lists are read on
# every panel request, and 2,000 panels reconnecting at once would read one 2,000 times.
CACHE_SECONDS = 2.0
PREFLIGHT_MAX_AGE = b"600"
ALLOWED_HEADERS = b"authorization, content-type, last-event-id"

_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_ASSET_HEADERS = (
    *_COMMON,
    (b"access-control-allow-origin", b"*"),
    (b"cross-origin-resource-policy", b"cross-origin"),
)


def page_policy(origins: list[str]) -> bytes:
    ancestors = " ".join(origins) if origins else "'none'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}"
    ).encode()


class OriginLists:
    """The organisations' embed origins, each read at most every ``CACHE_SECONDS``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[float, list[str] | None]] = {}

    def _read(self, org: str) -> list[str] | None:
        try:
            return embed_origins(self.engine, org)
        except NotFound:
            return None

    async def of(self, org: str) -> list[str] | None:
        """The list, or None for an organisation that does not exist."""
        now = time.monotonic()
        cached = self._cache.get(org)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        found = await asyncio.to_thread(self._read, org)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[org] = (now, found)
        return found


@dataclass(frozen=True, slots=True)
class Refused:
    origin: str
    how: str
    """``frame`` (the panel page in an iframe) or ``script`` (the custom element)."""
    at: float
    """Wall-clock seconds."""


class RefusedOrigins:
    """The last origins refused per organisation, in this process (bounded): the settings
    page shows them, so an integrator's grey frame has an answer."""

    def __init__(self) -> None:
        self._by_org: OrderedDict[str, OrderedDict[str, Refused]] = OrderedDict()

    def add(self, org: str, origin: str, how: str) -> None:
        kept = self._by_org.pop(org, None) or OrderedDict()
        first = origin not in kept
        kept.pop(origin, None)
        kept[origin] = Refused(origin, how, time.time())
        while len(kept) > REFUSED_KEPT:
            kept.popitem(last=False)
        self._by_org[org] = kept
        while len(self._by_org) > REFUSED_ORGS:
            self._by_org.popitem(last=False)
        if first:
            log.warning(
                "the panel of %s was refused to %s (%s): it is not an embed origin; add it "
                "with: agentstatus org embed-origins %s ... %s",
                org,
                origin,
                how,
                org,
                origin,
            )

    def of(self, org: str) -> list[Refused]:
        """Newest first."""
        return list(reversed((self._by_org.get(org) or {}).values()))


def _origin_of(text: str | None) -> str | None:
    """``scheme://host[:port]`` of an Origin or Referer, if it is one (else None)."""
    if not text or len(text) > 2048:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    found = f"{parts.scheme}://{parts.netloc}".lower()
    return found if ORIGIN.fullmatch(found) and "@" not in parts.netloc else None


class PanelEmbedding:
    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        pages: Pages,
        trusted: tuple[Network, ...],
        refused: RefusedOrigins | None = None,
    ) -> None:
        self.app = app
        self.pages = pages
        self.trusted = trusted
        self.lists = OriginLists(engine)
        self.refused = refused or RefusedOrigins()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in ASSETS:
            await self.app(scope, receive, _adding(send, _ASSET_HEADERS))
            return
        found = PANEL_PATH.fullmatch(path)
        listed = await self.lists.of(found.group(1)) if found else None
        origins = listed or []
        if found is None or found.group(2) is None:
            if found is not None and listed is not None:
                self._framed(scope, found.group(1), origins)
            policy = (b"content-security-policy", page_policy(origins))
            await self.app(scope, receive, _adding(send, (*_COMMON, policy)))
            return
        if found.group(2) == EXPLAIN:
            await self._explain(scope, send, found.group(1), listed)
            return
        origin = header(scope, b"origin")
        if origin is None or same_origin(scope, self.trusted):
            await self.app(scope, receive, _adding(send, _COMMON))
            return
        if origin.lower() not in origins:
            if listed is not None and (seen := _origin_of(origin)) is not None:
                self.refused.add(found.group(1), seen, "script")
            await self._refuse(scope, send)
            return
        cors = (
            *_COMMON,
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"origin"),
            (b"access-control-expose-headers", b"retry-after"),
        )
        if scope["method"] == "OPTIONS":
            preflight = (
                (b"access-control-allow-methods", b"GET, POST"),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            )
            await _send(send, 204, b"", (*cors, *preflight))
            return
        await self.app(scope, receive, _adding(send, cors))

    def _framed(self, scope: Scope, org: str, origins: list[str]) -> None:
        """The panel page asked for by a frame of a page not on the list: the browser will
        show its grey page; remember who it was (the framing page's origin is in the
        Referer a browser sends by default)."""
        if header(scope, b"sec-fetch-dest") != "iframe" or same_origin(scope, self.trusted):
            return
        origin = _origin_of(header(scope, b"referer"))
        if origin is not None and origin not in origins:
            self.refused.add(org, origin, "frame")

    async def _explain(self, scope: Scope, send: Send, org: str, listed: list[str] | None) -> None:
        """Whether the asking origin may embed the panel, in words, to any origin."""
        origin = _origin_of(header(scope, b"origin"))
        allowed = origin is None or same_origin(scope, self.trusted) or origin in (listed or [])
        wanted = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
        code = choose(wanted if wanted in LANGUAGES else None, header(scope, b"accept-language"))
        body: dict[str, object] = {"allowed": allowed, "origin": origin}
        if not allowed and origin is not None:
            if listed is not None:
                self.refused.add(org, origin, "script")
            command = f"agentstatus org embed-origins {org} … {origin}"
            body["command"] = command
            body["detail"] = self.pages.gettext(code, texts.ORIGIN_NOT_LISTED) % {
                "origin": origin,
                "org": org,
                "command": command,
            }
        headers = (
            *_COMMON,
            (b"content-type", b"application/json"),
            (b"access-control-allow-origin", b"*"),
            (b"cache-control", b"no-store"),
        )
        await _send(send, 200, orjson.dumps(body), headers)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        # No CORS header: the refused page's script cannot even read this answer.
        code = choose(None, header(scope, b"accept-language"))
        detail = self.pages.gettext(code, texts.ORIGIN_REFUSED)
        body = orjson.dumps({"detail": detail, "reason": "origin"})
        headers = (*_COMMON, (b"content-type", b"application/json"), (b"vary", b"origin"))
        await _send(send, 403, body, headers)


def _adding(send: Send, extra: tuple[tuple[bytes, bytes], ...]) -> Send:
    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {name for name, _ in extra}
            kept = [item for item in message.get("headers", []) if item[0] not in names]
            message["headers"] = kept + list(extra)
        await send(message)

    return with_headers


async def _send(
    send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...]
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})
