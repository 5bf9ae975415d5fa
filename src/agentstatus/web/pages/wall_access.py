"""Who may see an organisation's wall, for every request of the wall's data (its state, its
queues, its event stream): one function, so a second way in (a wall link's read-only
token, sent by the script as ``Authorization: Bearer`` from the page's ``#token=``) is
added here and nowhere else.

Two ways in: a wall link's token as ``Authorization: Bearer`` (read-only, this
organisation's wall and nothing else: ``service/wall_links.py``), or else a signed-in
supervisor or administrator of the organisation (the session cookie, as the board). The
answers are JSON (the script reads them), never a redirect; a refused link says why in the
viewer's words (``web/wall_link_access.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from agentstatus.events.credentials import Credential, session, wall
from agentstatus.service.links import LinkRefusal
from agentstatus.web.visitors import language_of, visitor
from agentstatus.web.wall_link_access import bearer_of, refusal_json, wall_link_grant


@dataclass(frozen=True, slots=True)
class WallViewer:
    """Someone the wall of ``org`` may be shown to."""

    org: str
    language: str
    """The language of the words the data carries (the statuses' default names)."""
    credential: Credential
    """What opened the wall's stream (the streams' caps and revocation go by it)."""
    signed_in: bool
    """True for a session (the page may link back to the board); False for a link."""


class WallRefused(Exception):
    """The wall's data is not for this request: answered ``{"detail": ...}``."""

    def __init__(self, status: int, detail: str, answer: Response | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.answer = status, detail, answer

    @property
    def response(self) -> Response:
        if self.answer is not None:
            return self.answer
        headers = {"cache-control": "no-store"}
        if self.status == 401:
            headers["www-authenticate"] = "Bearer"
        return Response(
            orjson.dumps({"detail": self.detail}),
            status_code=self.status,
            media_type="application/json",
            headers=headers,
        )


async def wall_viewer(request: Request, org: str) -> WallViewer:
    """The viewer of ``org``'s wall, or WallRefused (401 nobody, 403 another
    organisation's; a wall link's refusal with its reason). Whether ``org`` exists is the
    data's own question (404)."""
    if bearer_of(request) is not None:
        # A link's bearer, even beside a session cookie: the link decides, so a TV's
        # revoked link is refused though someone once signed in on it.
        grant = await wall_link_grant(request, org)
        if isinstance(grant, LinkRefusal):
            raise WallRefused(401, grant.value, refusal_json(request, grant))
        return WallViewer(
            org, language_of(request), wall(grant.link_id, grant.org_id), signed_in=False
        )
    found = await visitor(request)
    if found is None:
        raise WallRefused(401, "sign in first")
    if not found.user.may_access(org):
        raise WallRefused(403, "you may not see this organisation")
    return WallViewer(
        org, language_of(request), session(found.session_id, found.user.id), signed_in=True
    )
