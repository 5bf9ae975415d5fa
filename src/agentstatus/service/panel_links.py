"""Links to the agent's status panel: a bearer token scoped to one agent of one
organisation (optionally to one extension), expiring, revocable, and revoked when the agent
is deactivated. The token is shown once, when the link is made; only its digest is kept.
A link never contains nor reveals the organisation's Code."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest, generate_panel_token
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import validation
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.links import Lifetime, LinkRefusal, link_url, may_be_token, refusal
from agentstatus.service.organisations import org_id
from agentstatus.service.presence import agent_row_id
from agentstatus.storage import agents, extensions, panel_links
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine

LIFETIME = Lifetime("a panel link", default=12 * 3600, minimum=60, maximum=7 * 86400)
DEFAULT_TTL_SECONDS = LIFETIME.default
MIN_TTL_SECONDS = LIFETIME.minimum
MAX_TTL_SECONDS = LIFETIME.maximum
__all__ = ["LinkRefusal"]  # re-exported: the panel names its refusals from here


@dataclass(frozen=True, slots=True)
class PanelLink:
    id: int
    user_id: str
    extension: str | None
    created_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class CreatedLink:
    link: PanelLink
    token: str
    """Shown once: the link's URL carries it."""


@dataclass(frozen=True, slots=True)
class PanelGrant:
    """What a valid link lets its holder do: see and change one agent."""

    link_id: int
    org: str
    org_id: int
    agent_id: int
    user_id: str
    name: str
    extension: str | None
    """The extension the link fixes; None lets the agent choose at login."""
    expires_ms: int


def panel_url(base_url: str, org: str, token: str) -> str:
    """The link: the panel page's address, the token in the fragment (which browsers never
    send to a server, so it reaches no access log and no ``Referer``)."""
    return link_url(base_url, f"/panel/{org}", token)


def create_link(
    engine: Engine, org: str, user_id: str, extension: str | None, ttl: int | None = None
) -> CreatedLink:
    """A new link for an active agent; NotFound for an unknown agent or extension."""
    seconds = LIFETIME.seconds(ttl)
    if extension is not None:
        extension = validation.identifier("extension", extension)
    token = generate_panel_token()
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, org)
        aid = agent_row_id(conn, oid, user_id)
        if not agents.is_active(conn, aid):
            raise InvalidInput(f"agent {user_id!r} is deactivated; activate it first")
        if extension is not None and not extensions.exists(conn, oid, extension):
            raise NotFound(f"no extension {extension!r} in this organisation")
        new_id = panel_links.insert_link(
            conn, digest(token), oid, aid, extension, at, at + seconds * 1000
        )
    link = PanelLink(new_id, user_id, extension, at, at + seconds * 1000)
    return CreatedLink(link, token)


def verify_link(engine: Engine, org: str, token: str) -> PanelGrant | LinkRefusal:
    """The grant of a valid link of ``org``, or why it is refused (a link of another
    organisation is unknown here, as if it did not exist)."""
    if not may_be_token(token):
        return LinkRefusal.UNKNOWN
    with reading(engine) as conn:
        row = panel_links.find_grant(conn, digest(token))
    if row is None or row.org != org:
        return LinkRefusal.UNKNOWN
    ended = bool(row.revoked or not row.active)
    refused = refusal(ended=ended, expires_ms=int(row.expires_ms), now=now_ms())
    if refused is not None:
        return refused
    return PanelGrant(
        int(row.id),
        row.org,
        int(row.org_id),
        int(row.agent_id),
        row.user_id,
        row.name,
        row.extension,
        int(row.expires_ms),
    )


def list_links(engine: Engine, org: str, user_id: str | None = None) -> list[PanelLink]:
    """The links still valid (not revoked, not expired), oldest first."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        aid = None if user_id is None else agent_row_id(conn, oid, user_id)
        return [
            PanelLink(int(r.id), r.user_id, r.extension, int(r.created_ms), int(r.expires_ms))
            for r in panel_links.valid_rows(conn, oid, now_ms(), aid)
        ]


def revoke_link(engine: Engine, org: str, link_id: int) -> None:
    if not 1 <= link_id <= INT64_MAX:
        raise NotFound(f"no panel link {link_id} in this organisation")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        revoked = panel_links.revoke(conn, oid, link_id)
    if not revoked:
        raise NotFound(f"no panel link {link_id} in this organisation")


def revoke_agent_links(conn: Connection, agent_id: int) -> int:
    """Revoke every link of one agent (in the caller's transaction); how many were valid."""
    return panel_links.revoke_of_agent(conn, agent_id)


def revoke_links_of(engine: Engine, org: str, user_id: str) -> int:
    with engine.begin() as conn:
        return revoke_agent_links(conn, agent_row_id(conn, org_id(conn, org), user_id))


def ended_among(engine: Engine, link_ids: set[int]) -> set[int]:
    """Which of these links are revoked, expired or of a deactivated agent: the event
    streams they opened end."""
    if not link_ids:
        return set()
    with reading(engine) as conn:
        valid = panel_links.valid_among(conn, link_ids, now_ms())
    return link_ids - valid
