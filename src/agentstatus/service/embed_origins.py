"""The origins each organisation lets embed the agent's panel: frame it (the panel page's
``Content-Security-Policy: frame-ancestors``) or call it from script (CORS). Every other
origin is refused. An origin is ``scheme://host[:port]`` exactly as a browser sends it in
``Origin``: lower-case, no default port, no path."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import orjson

from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.storage import organisations
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

MAX_ORIGINS = 50
MAX_ORIGIN_LENGTH = 255
DEFAULT_PORTS = {"http": 80, "https": 443}
# A DNS name as browsers serialise it (IDNs arrive punycoded, in xn-- form).
_HOST = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)


def normalise_origin(text: str) -> str:
    """``text`` as the browser's ``Origin`` header would carry it, or InvalidInput."""
    raw = text.strip()
    shown = raw[:80]
    if not raw or len(raw) > MAX_ORIGIN_LENGTH or not raw.isascii():
        raise InvalidInput(f"{shown!r} is not an origin: write it as https://crm.example.com")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{shown!r} is not an origin: its port is not a number") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidInput(f"{shown!r} is not an origin: it must start with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{shown!r} is not an origin: it may not carry a user or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"{shown!r} is not an origin: give scheme, host and port only")
    host = (parts.hostname or "").lower()
    if host.startswith("[") or ":" in host:
        try:
            host = f"[{ipaddress.IPv6Address(host.strip('[]')).compressed}]"
        except ValueError:
            raise InvalidInput(f"{shown!r} is not an origin: bad IPv6 address") from None
    elif not _HOST.fullmatch(host):
        raise InvalidInput(f"{shown!r} is not an origin: {host!r} is not a host name")
    suffix = "" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{suffix}"


def set_embed_origins(engine: Engine, org: str, origins: list[str] | None) -> list[str]:
    """Replace the list (None or empty: no origin may embed the panel); the list kept."""
    normal = sorted({normalise_origin(o) for o in origins or []})
    if len(normal) > MAX_ORIGINS:
        raise InvalidInput(f"at most {MAX_ORIGINS} embed origins, not {len(normal)}")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        organisations.set_embed_origins(
            conn, oid, orjson.dumps(normal).decode() if normal else None
        )
    return normal


def embed_origins(engine: Engine, org: str) -> list[str]:
    """The organisation's list; NotFound for an unknown organisation."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        stored = organisations.embed_origins(conn, oid)
    found = orjson.loads(stored) if stored else []
    return [str(o) for o in found]
