"""What a wall link opens, checked for the wall (``web/pages/wall_access.py``), and the
words of a refusal.

The wall's script holds the link's token, taken from the address's fragment
(``/o/{org}/wall#token=…``), and sends it as ``Authorization: Bearer``: it is never in a
URL a server sees, a ``Referer`` or the access log. A link opens its organisation's wall
and nothing else: its token is looked up in the wall links' table only, so every other
page and API takes it for an unknown token.

A refusal says which of three it is (``reason``: ``unknown``, ``expired``, ``revoked``), in
the reader's language, as JSON for the script (``{"title", "detail", "reason"}``, 401) or as
a page of its own that names no other page (``wall_link_refused.html``).
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from agentstatus.service.links import LinkRefusal
from agentstatus.service.wall_links import WallGrant, verify_link
from agentstatus.web.i18n import LANGUAGES, language
from agentstatus.web.messages import N_
from agentstatus.web.templating import Pages
from agentstatus.web.visitors import context_of, language_of

# (title, detail) of each refusal.
WORDS = {
    LinkRefusal.UNKNOWN: (
        N_("This wall link does not work"),
        N_("The link is not valid. Ask an administrator for a new wall link."),
    ),
    LinkRefusal.EXPIRED: (
        N_("This wall link has expired"),
        N_("The link's time is over. Ask an administrator for a new wall link."),
    ),
    LinkRefusal.REVOKED: (
        N_("This wall link was revoked"),
        N_("An administrator ended this link. Ask an administrator for a new wall link."),
    ),
}
NO_STORE = {"cache-control": "no-store"}


def bearer_of(request: Request) -> str | None:
    """The token of the request's ``Authorization: Bearer``, None without one."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def wall_link_grant(request: Request, org: str) -> WallGrant | LinkRefusal:
    """The grant of the request's wall link for ``org``'s wall, or why it is refused
    (``UNKNOWN`` without a bearer token)."""
    token = bearer_of(request)
    if token is None:
        return LinkRefusal.UNKNOWN
    return await asyncio.to_thread(verify_link, context_of(request).engine, org, token)


def refusal_language(request: Request) -> str:
    """``?lang=`` when it names a language we have (a screen has no cookie to remember a
    choice by), else the visitor's (the cookie, then ``Accept-Language``)."""
    wanted = request.query_params.get("lang")
    return wanted if wanted in LANGUAGES else language_of(request)


def refusal_words(request: Request, refusal: LinkRefusal) -> tuple[str, str]:
    pages: Pages = request.app.state.pages
    code = refusal_language(request)
    title, detail = WORDS[refusal]
    return pages.gettext(code, title), pages.gettext(code, detail)


def refusal_json(request: Request, refusal: LinkRefusal) -> Response:
    """401 ``{"title", "detail", "reason"}`` for the wall's script."""
    title, detail = refusal_words(request, refusal)
    return Response(
        orjson.dumps({"title": title, "detail": detail, "reason": refusal.value}),
        status_code=401,
        media_type="application/json",
        headers={**NO_STORE, "www-authenticate": 'Bearer error="invalid_token"'},
    )


def refusal_page(request: Request, refusal: LinkRefusal) -> HTMLResponse:
    """A page that says why, with nothing else on it (401)."""
    pages: Pages = request.app.state.pages
    code = refusal_language(request)
    title, detail = refusal_words(request, refusal)
    return pages.render(
        code,
        "wall_link_refused.html",
        {
            "lang": language(code),
            "visitor": None,
            "title": title,
            "detail": detail,
            "reason": refusal.value,
        },
        status_code=401,
    )
