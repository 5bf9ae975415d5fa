"""The language switch: remembered in a cookie for a year, then back to the page it was
pressed on, or to the nearest page that can be shown (a form refused at its POST address
returns to the page of the form, never to a 405)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp

from agentstatus.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from agentstatus.web.visitors import safe_next, set_cookie

YEAR = 365 * 24 * 3600
MAX_STEPS = 16


def _gettable(app: ASGIApp, path: str) -> bool:
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    routes = getattr(getattr(app, "router", None), "routes", [])
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


def shown_page(app: ASGIApp, target: str) -> str:
    """``target`` (a local address) if it is a page one can GET, else the nearest one
    above it (``/o/ORG/admin/agents/change`` → ``/o/ORG/admin/agents``), else ``/``."""
    target = safe_next(target)
    path = target.partition("?")[0]
    if _gettable(app, path):
        return target
    for _ in range(MAX_STEPS):
        path = path.rstrip("/").rpartition("/")[0]
        if not path:
            break
        for candidate in (path, path + "/"):
            if _gettable(app, candidate):
                return candidate
    return "/"


async def choose_language(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    chosen = str(form.get("language") or "")
    back = shown_page(request.app, str(form.get("next") or ""))
    response = RedirectResponse(back, status_code=303)
    if chosen in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, chosen, max_age=YEAR)
    return response
