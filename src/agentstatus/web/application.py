"""The web front end: server-rendered pages (Jinja2), small scripts of our own, served
beside the API by the same process. ``handles(path)`` tells the dispatcher which paths
are ours; everything else stays the API's."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from agentstatus.http.api.limits import BodyLimitMiddleware
from agentstatus.http.context import AppContext
from agentstatus.service.passwords import CONCURRENT_CHECKS
from agentstatus.web import messages
from agentstatus.web.oidc_provider import OidcProvider
from agentstatus.web.pages import (
    agent_day,
    board,
    language,
    oidc,
    replay,
    reports,
    sign_in,
    supervisor_status,
    wall,
)
from agentstatus.web.pages.admin.routes import admin_routes, body_limit
from agentstatus.web.pages.common import error_page
from agentstatus.web.panel.embedding import RefusedOrigins
from agentstatus.web.panel.routes import PREFIX as PANEL_PREFIX
from agentstatus.web.panel.routes import create_panel
from agentstatus.web.security import PageSecurity
from agentstatus.web.static_files import StaticFiles
from agentstatus.web.stream import SessionEvents
from agentstatus.web.templating import Pages

ORG = "{org:str}"
log = logging.getLogger(__name__)
EXACT_PATHS = frozenset(
    {"/", "/sign-in", "/sign-out", "/language", oidc.START_PATH, oidc.CALLBACK_PATH}
)
PREFIXES = ("/o/", "/static/", PANEL_PREFIX)


def handles(path: str) -> bool:
    return path in EXACT_PATHS or path.startswith(PREFIXES)


async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, messages.NO_SUCH_PAGE)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return error_page(request, 405, messages.WRONG_METHOD)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("a page failed", exc_info=exc)
    return error_page(request, 500, messages.SERVER_ERROR)


class WebFront:
    """The pages (for signed-in people, same-origin only) and the panel (for a link's
    holder, embeddable): two security models, so two applications."""

    def __init__(self, pages: ASGIApp, panel: ASGIApp) -> None:
        self.pages = pages
        self.panel = panel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PANEL_PREFIX):
            await self.panel(scope, receive, send)
        else:
            await self.pages(scope, receive, send)


def create_web(context: AppContext) -> WebFront:
    static = StaticFiles()
    routes = [
        Route("/", board.board, methods=["GET"]),
        Route("/sign-in", sign_in.sign_in_form, methods=["GET"]),
        Route("/sign-in", sign_in.sign_in, methods=["POST"]),
        Route("/sign-out", sign_in.sign_out, methods=["POST"]),
        Route(oidc.START_PATH, oidc.start_sign_in, methods=["GET"]),
        Route(oidc.CALLBACK_PATH, oidc.callback, methods=["GET"]),
        Route("/language", language.choose_language, methods=["POST"]),
        Route("/static/{name:str}", static.serve, methods=["GET"]),
        Route(f"/o/{ORG}/", board.board, methods=["GET"]),
        Route(f"/o/{ORG}/catalogue.css", board.catalogue_css, methods=["GET"]),
        Route(f"/o/{ORG}/events", SessionEvents(), methods=["GET"]),
        Route(f"/o/{ORG}/wall", wall.wall, methods=["GET"]),
        Route(f"/o/{ORG}/wall/state", wall.state, methods=["GET"]),
        Route(f"/o/{ORG}/wall/queues", wall.queues, methods=["GET"]),
        Route(f"/o/{ORG}/wall/events", wall.Events(), methods=["GET"]),
        # A user id may hold "/" (web/agent_paths.py): the rest of the path is the id.
        Route(f"/o/{ORG}/agents/{{user_id:path}}/logout", board.logout_agent, methods=["POST"]),
        Route(
            f"/o/{ORG}/agents/{{user_id:path}}/status",
            supervisor_status.set_agent_status,
            methods=["POST"],
        ),
        Route(f"/o/{ORG}/logout-all", board.logout_all, methods=["POST"]),
        Route(f"/o/{ORG}/replay/floor", replay.floor, methods=["GET"]),
        Route(f"/o/{ORG}/replay/events", replay.events, methods=["GET"]),
        Route(f"/o/{ORG}/agents/{{user_id:path}}", agent_day.agent_day, methods=["GET"]),
        Route(f"/o/{ORG}/reports", reports.reports_page, methods=["GET"]),
        Route(f"/o/{ORG}/reports.csv", reports.reports_csv, methods=["GET"]),
        Route(f"/o/{ORG}/reports/calls.csv", reports.calls_csv, methods=["GET"]),
        *admin_routes(ORG),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: method_not_allowed, Exception: server_error},
    )
    app.state.context = context
    app.state.pages = pages = Pages(static)
    app.state.password_checks = sign_in.PasswordQueue(CONCURRENT_CHECKS)
    settings = context.settings
    app.state.oidc = OidcProvider(settings) if settings.oidc_issuer else None
    # The panel's refused origins, for the settings page to show.
    app.state.refused_origins = refused = RefusedOrigins()
    return WebFront(
        PageSecurity(BodyLimitMiddleware(app, body_limit), context.trusted_proxies),
        create_panel(context, pages, refused),
    )
