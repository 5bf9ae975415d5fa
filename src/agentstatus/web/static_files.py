"""The pages' static files, addressed by content hash: ``/static/board.1a2b3c4d5e.js`` is
served with a year's ``immutable`` cache, and a new release changes the name. The
unhashed name still answers (no cache), for a module imported by a relative path."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.package_files import files_in, read_bytes

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    hashed_name: str


def _hashed(name: str, body: bytes) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{suffix}"


class StaticFiles:
    """Every file of ``static/``, read once at start (they are few and small)."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._by_name: dict[str, StaticFile] = {}
        self._by_hashed: dict[str, StaticFile] = {}
        for path in files_in(directory):
            body = read_bytes(path)
            media_type = TYPES.get(path.suffix) or (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            )
            found = StaticFile(body, media_type, _hashed(path.name, body))
            self._by_name[path.name] = found
            self._by_hashed[found.hashed_name] = found

    def url(self, name: str) -> str:
        """The URL of ``name`` in a template; a missing file is a bug found at render."""
        return PREFIX + self._by_name[name].hashed_name

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        hashed = self._by_hashed.get(name)
        if hashed is not None:
            return Response(hashed.body, media_type=hashed.media_type, headers=_cache(IMMUTABLE))
        plain = self._by_name.get(name)
        if plain is not None:
            return Response(plain.body, media_type=plain.media_type, headers=_cache("no-cache"))
        return Response("not found", status_code=404, media_type="text/plain")


def _cache(value: str) -> dict[str, str]:
    return {"cache-control": value, "x-content-type-options": "nosniff"}
