"""What every page is sent with, and the pages' protection against cross-site requests.

The Content-Security-Policy allows scripts, styles and connections from our own origin
only: there is no inline script or style anywhere, so nothing injected into a page can
run. Cross-site request forgery is refused the way Go 1.25's ``CrossOriginProtection``
and Datasette do it, without tokens (so it works on a plain-HTTP LAN and with any number
of tabs): a state-changing request must come from our own origin by ``Sec-Fetch-Site``,
else by ``Origin``; a request with neither header is not from a browser and passes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentstatus.domain.addresses import Network
from agentstatus.http.requests import header, is_https

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE_REFUSED = b"cross-site request refused"


def same_origin(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    """Whether a request may change state (see the module's docstring)."""
    site = header(scope, b"sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = header(scope, b"origin")
    if origin is None:
        return True
    host = header(scope, b"host")
    if host is None:
        return False
    scheme = "https" if is_https(scope, trusted) else "http"
    return origin.lower() == f"{scheme}://{host}".lower()


class PageSecurity:
    """Adds the security headers to every answer and refuses cross-site writes (403)."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    item for item in SECURITY_HEADERS if item[0] not in names
                ]
            await send(message)

        if scope["method"] not in SAFE_METHODS and not same_origin(scope, self.trusted):
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": CROSS_SITE_REFUSED})
            return
        await self.app(scope, receive, with_headers)
