"""The language switch: remembered in a cookie for a year."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agentstatus.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from agentstatus.web.visitors import safe_next, set_cookie

YEAR = 365 * 24 * 3600


async def choose_language(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    chosen = str(form.get("language") or "")
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    if chosen in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, chosen, max_age=YEAR)
    return response
