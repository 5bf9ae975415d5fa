"""The panel page (what an ``<iframe>`` shows) and the panel's script and style sheet at
fixed addresses, for a CRM's page to load with one ``<script type="module">``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.package_files import read_bytes
from agentstatus.web.i18n import language
from agentstatus.web.panel.api import panel_language
from agentstatus.web.templating import Pages

ASSETS_DIR = Path(__file__).parent / "assets"
# Fixed addresses (a CRM's page names them), so not cached for long; revalidated by ETag.
CACHE = "public, max-age=300"
TYPES = {"panel.js": "text/javascript; charset=utf-8", "panel.css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _load(name: str) -> Asset:
    body = read_bytes(ASSETS_DIR / name)
    return Asset(body, TYPES[name], '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


class PanelAssets:
    """``/panel/embed.js`` and ``/panel/panel.css``, read once at start."""

    def __init__(self) -> None:
        self._by_path = {
            "/panel/embed.js": _load("panel.js"),
            "/panel/panel.css": _load("panel.css"),
        }

    async def serve(self, request: Request) -> Response:
        asset = self._by_path[request.url.path]
        headers = {"cache-control": CACHE, "etag": asset.etag}
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)


async def panel_page(request: Request) -> Response:
    """``GET /panel/{org}``: the panel alone; its script reads the link from the address.
    Shown for any organisation name: whether it exists is the API's to say, to a link."""
    pages: Pages = request.app.state.pages
    code = panel_language(request)
    org = request.path_params["org"]
    return pages.render(code, "panel.html", {"lang": language(code), "org": org})
