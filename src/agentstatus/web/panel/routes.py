"""``/panel/…``: the panel page, its script and style, and its API."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from agentstatus.http.context import AppContext
from agentstatus.web.panel import after_call, api, texts
from agentstatus.web.panel.api import Refusal, refusal_response
from agentstatus.web.panel.embedding import PanelEmbedding, RefusedOrigins
from agentstatus.web.panel.page import PanelAssets, panel_page
from agentstatus.web.templating import Pages

PREFIX = "/panel/"
log = logging.getLogger(__name__)
ORG = "{org:str}"


async def _not_found(request: Request, exc: Exception) -> Response:
    return refusal_response(request, Refusal(404, "not_found", texts.BAD_REQUEST))


async def _failed(request: Request, exc: Exception) -> Response:
    log.exception("a panel request failed", exc_info=exc)
    return refusal_response(request, Refusal(500, "failed", texts.NOT_SAVED))


async def _wrong_method(request: Request, exc: Exception) -> Response:
    return refusal_response(request, Refusal(405, "bad_request", texts.BAD_REQUEST))


def create_panel(
    context: AppContext, pages: Pages, refused: RefusedOrigins | None = None
) -> ASGIApp:
    assets = PanelAssets()
    app = Starlette(
        routes=[
            Route("/panel/embed.js", assets.serve, methods=["GET"]),
            Route("/panel/panel.css", assets.serve, methods=["GET"]),
            Route(f"/panel/{ORG}", panel_page, methods=["GET"]),
            Route(f"/panel/{ORG}/api/state", api.state, methods=["GET"]),
            Route(f"/panel/{ORG}/api/status", api.change, methods=["POST"]),
            Route(f"/panel/{ORG}/api/events", api.Events(), methods=["GET"]),
            Route(f"/panel/{ORG}/api/wrapup", after_call.read, methods=["GET"]),
            Route(f"/panel/{ORG}/api/queues", api.queues, methods=["GET"]),
            Route(f"/panel/{ORG}/api/ready", after_call.ready, methods=["POST"]),
        ],
        exception_handlers={404: _not_found, 405: _wrong_method, Exception: _failed},
    )
    app.state.context = context
    app.state.pages = pages
    return PanelEmbedding(app, context.engine, pages, context.trusted_proxies, refused)
