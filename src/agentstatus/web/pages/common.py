"""What every page handler needs: the signed-in visitor, the organisation it may see, the
page's language, and the error pages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from agentstatus.http.context import AppContext
from agentstatus.service.organisations import list_organisations
from agentstatus.service.tokens import Role
from agentstatus.web import messages
from agentstatus.web.pages.language import shown_page
from agentstatus.web.templating import Pages
from agentstatus.web.visitors import Visitor, context_of, language_of, sign_in_first, visitor


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A signed-in visitor's request for a page of one organisation."""

    request: Request
    context: AppContext
    visitor: Visitor
    language: str
    org: str
    orgs: list[str]
    """The organisations the visitor may switch to (one, for a scoped user)."""

    @property
    def is_admin(self) -> bool:
        return self.visitor.user.role is Role.ADMIN

    @property
    def actor(self) -> str:
        """Who makes the page's changes, as the history records it: the user's e-mail."""
        return self.visitor.user.email


class Refused(Exception):
    """The page cannot be shown: answered with an error page (or a redirect)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def pages_of(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    code = language_of(request)
    pages = pages_of(request)
    return pages.render(
        code,
        "error.html",
        {"visitor": None, "status": status, "message": pages.gettext(code, message)},
        status_code=status,
    )


async def page_request(request: Request, org: str | None, *, admin: bool = False) -> PageRequest:
    """The visitor and the organisation of the page, or Refused (to the sign-in page when
    not signed in; 403 for another organisation or a page for admins; 404 no such one)."""
    found = await visitor(request)
    if found is None:
        raise Refused(sign_in_first(request))
    context = context_of(request)
    user = found.user
    if admin and user.role is not Role.ADMIN:
        raise Refused(error_page(request, 403, messages.FOR_ADMINS))
    if user.org is not None:
        if org is not None and org != user.org:
            raise Refused(error_page(request, 403, messages.OTHER_ORG))
        orgs = [user.org]
    else:
        orgs = [o.name for o in await asyncio.to_thread(list_organisations, context.engine)]
        if org is not None and org not in orgs:
            raise Refused(error_page(request, 404, messages.NO_SUCH_ORG))
        if not orgs:
            raise Refused(error_page(request, 404, messages.NO_ORG_YET))
    return PageRequest(request, context, found, language_of(request), org or orgs[0], orgs)


def return_to(request: Request) -> str:
    """The address of the page being shown, as the language switch returns to it: the
    page itself for a GET, else (a form answered at its POST address) the form's page."""
    path = request.url.path
    if request.method in ("GET", "HEAD"):
        return path + (f"?{request.url.query}" if request.url.query else "")
    return shown_page(request.app, path)


def render(page: PageRequest, name: str, values: dict[str, Any], status: int = 200) -> Response:
    pages = pages_of(page.request)
    base = {
        "visitor": page.visitor,
        "org": page.org,
        "orgs": page.orgs,
        "is_admin": page.is_admin,
        "here": page.request.url.path,
        "return_to": return_to(page.request),
    }
    return pages.render(page.language, name, {**base, **values}, status_code=status)
