"""Reading raw ASGI requests: bounded bodies, headers, and the client address."""

from __future__ import annotations

from starlette.types import Receive, Scope

from agentstatus.domain.addresses import Network, address_in, client_address
from agentstatus.domain.integers import parse_int


class BodyTooLarge(Exception):
    """The body is over the limit; the rest of it was not read."""


class BodyIncomplete(Exception):
    """The client went away before its whole body arrived: nothing of it may be applied
    (``Status=13`` cut short is ``Status=1``)."""


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def joined_header(scope: Scope, name: bytes) -> str | None:
    """Every line of a header that may be repeated, as one comma-separated list (RFC 9110
    5.3): a proxy that appends its own ``X-Forwarded-For`` line must not hide the others."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ", ".join(values) if values else None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = header(scope, b"content-length")
    size = parse_int(declared) if declared is not None else None
    if declared is not None and (size is None or size > limit):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyIncomplete
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def resolve_client(scope: Scope, trusted: tuple[Network, ...]) -> str | None:
    """The client's address, remembered in the scope's state for the access log."""
    client = scope.get("client")
    peer = client[0] if client else None
    forwarded = joined_header(scope, b"x-forwarded-for") if trusted else None
    address = client_address(peer, forwarded, trusted)
    scope.setdefault("state", {})["client_addr"] = address
    return address


def is_https(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    """Whether the browser's request came over HTTPS, directly or through a trusted proxy
    that says so in ``X-Forwarded-Proto``. The last value counts: it is the one the
    trusted proxy appended; any before it came from the client (or proxies before it)."""
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if not trusted or not client or not address_in(trusted, client[0]):
        return False
    forwarded = (joined_header(scope, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
    return forwarded == "https"
