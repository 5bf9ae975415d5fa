"""The administration pages' routes, and the larger body a CSV import may send."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from agentstatus.http.api.limits import CSV_LIMIT, limit_for, media_type
from agentstatus.web.pages.admin import (
    agents,
    extensions,
    settings,
    statuses,
    tokens,
    users,
    webhooks,
)

IMPORT_SUFFIXES = ("/admin/agents/import", "/admin/extensions/import")


def body_limit(scope: Scope, headers: Headers) -> int:
    """16 MiB (like the API's CSV upload) for a file sent to an import form; 1 MiB else."""
    path: str = scope.get("path", "")
    if path.endswith(IMPORT_SUFFIXES) and media_type(headers) == "multipart/form-data":
        return CSV_LIMIT
    return limit_for(scope, headers)


async def first_area(request: Request) -> Response:
    return RedirectResponse(f"/o/{request.path_params['org']}/admin/agents", status_code=303)


def admin_routes(org: str) -> list[Route]:
    base = f"/o/{org}/admin"
    return [
        Route(base, first_area, methods=["GET"]),
        Route(f"{base}/", first_area, methods=["GET"]),
        Route(f"{base}/agents", agents.agents_page, methods=["GET"]),
        Route(f"{base}/agents", agents.add, methods=["POST"]),
        Route(f"{base}/agents/change", agents.change, methods=["POST"]),
        Route(f"{base}/agents/import", agents.import_csv, methods=["POST"]),
        Route(f"{base}/extensions", extensions.extensions_page, methods=["GET"]),
        Route(f"{base}/extensions", extensions.add, methods=["POST"]),
        Route(f"{base}/extensions/remove", extensions.remove, methods=["POST"]),
        Route(f"{base}/extensions/import", extensions.import_csv, methods=["POST"]),
        Route(f"{base}/statuses", statuses.statuses_page, methods=["GET"]),
        Route(f"{base}/statuses", statuses.add, methods=["POST"]),
        Route(f"{base}/statuses/edit", statuses.edit, methods=["POST"]),
        Route(f"{base}/users", users.users_page, methods=["GET"]),
        Route(f"{base}/users", users.add, methods=["POST"]),
        Route(f"{base}/users/password", users.new_password, methods=["POST"]),
        Route(f"{base}/users/remove", users.remove, methods=["POST"]),
        Route(f"{base}/tokens", tokens.tokens_page, methods=["GET"]),
        Route(f"{base}/tokens", tokens.create, methods=["POST"]),
        Route(f"{base}/tokens/revoke", tokens.revoke, methods=["POST"]),
        Route(f"{base}/webhooks", webhooks.webhooks_page, methods=["GET"]),
        Route(f"{base}/webhooks", webhooks.add, methods=["POST"]),
        Route(f"{base}/webhooks/change", webhooks.change, methods=["POST"]),
        Route(f"{base}/settings", settings.settings_page, methods=["GET"]),
        Route(f"{base}/settings/allowlist", settings.save_allowlist, methods=["POST"]),
        Route(f"{base}/settings/timezone", settings.save_timezone, methods=["POST"]),
        Route(f"{base}/settings/embed", settings.save_embed_origins, methods=["POST"]),
        Route(f"{base}/settings/wall-links", settings.make_wall_link, methods=["POST"]),
        Route(f"{base}/settings/wall-links/revoke", settings.revoke_wall_links, methods=["POST"]),
        Route(f"{base}/settings/shift", settings.save_shift_end, methods=["POST"]),
        Route(f"{base}/settings/pbx", settings.save_pbx, methods=["POST"]),
        Route(f"{base}/settings/pbx/off", settings.pbx_off, methods=["POST"]),
        Route(f"{base}/settings/code", settings.rotate_code, methods=["POST"]),
    ]
