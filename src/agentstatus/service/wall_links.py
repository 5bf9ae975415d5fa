"""Links to an organisation's wall: the board for a TV in the corner that no one signs in
to. A link is a bearer token of the organisation (not of an agent) that shows the wall and
nothing else, expires (30 days by default, at most a year) and can be revoked; it never
contains the organisation's Code. The token is shown once, when the link is made, and kept
only as its digest. A link's row records who made it and who revoked it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.codes import digest, generate_wall_token
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import validation
from agentstatus.service.errors import NotFound
from agentstatus.service.links import Lifetime, LinkRefusal, link_url, may_be_token, refusal
from agentstatus.service.organisations import org_id
from agentstatus.storage import wall_links
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

LIFETIME = Lifetime("a wall link", default=30 * 86400, minimum=60, maximum=365 * 86400)
MAX_LABEL = 128
log = logging.getLogger(__name__)
__all__ = ["LinkRefusal"]


@dataclass(frozen=True, slots=True)
class WallLink:
    id: int
    label: str
    created_ms: int
    created_by: str | None
    expires_ms: int
    revoked_ms: int | None
    revoked_by: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "created_at": to_iso(self.created_ms),
            "created_by": self.created_by,
            "expires_at": to_iso(self.expires_ms),
            "revoked_at": None if self.revoked_ms is None else to_iso(self.revoked_ms),
            "revoked_by": self.revoked_by,
        }


@dataclass(frozen=True, slots=True)
class CreatedWallLink:
    link: WallLink
    token: str
    """Shown once: the link's URL carries it."""


@dataclass(frozen=True, slots=True)
class WallGrant:
    """What a valid link lets its holder do: see the wall of one organisation."""

    link_id: int
    org: str
    org_id: int
    label: str
    expires_ms: int


def wall_url(base_url: str, org: str, token: str) -> str:
    """The link: the wall's address, ``#token=…`` in the fragment (never sent to a server)."""
    return link_url(base_url, f"/o/{org}/wall", f"token={token}")


def _link(row: Any) -> WallLink:
    return WallLink(
        int(row.id),
        row.label,
        int(row.created_ms),
        row.created_by,
        int(row.expires_ms),
        None if row.revoked_ms is None else int(row.revoked_ms),
        row.revoked_by,
    )


def create_link(
    engine: Engine,
    org: str,
    label: str = "",
    ttl: int | None = None,
    actor: str | None = None,
) -> CreatedWallLink:
    """A new link to ``org``'s wall, lasting ``ttl`` seconds (the default for None);
    ``actor`` is who made it (as the history names people: ``cli:LOGIN``, an e-mail)."""
    seconds = LIFETIME.seconds(ttl)
    label = validation.display_name(label, max_length=MAX_LABEL)
    token = generate_wall_token()
    at = now_ms()
    expires = at + seconds * 1000
    with engine.begin() as conn:
        oid = org_id(conn, org)
        new_id = wall_links.insert_link(conn, digest(token), oid, label, at, actor, expires)
    log.info("wall link %d of %s made by %s, until %d", new_id, org, actor, expires)
    return CreatedWallLink(WallLink(new_id, label, at, actor, expires, None, None), token)


def verify_link(engine: Engine, org: str, token: str) -> WallGrant | LinkRefusal:
    """The grant of a valid link of ``org``, or why it is refused (a link of another
    organisation is unknown here, as if it did not exist; so is any other kind of token)."""
    if not may_be_token(token):
        return LinkRefusal.UNKNOWN
    with reading(engine) as conn:
        row = wall_links.find_grant(conn, digest(token))
    if row is None or row.org != org:
        return LinkRefusal.UNKNOWN
    ended = row.revoked_ms is not None
    refused = refusal(ended=ended, expires_ms=int(row.expires_ms), now=now_ms())
    if refused is not None:
        return refused
    return WallGrant(int(row.id), row.org, int(row.org_id), row.label, int(row.expires_ms))


def list_links(engine: Engine, org: str, *, ended: bool = False) -> list[WallLink]:
    """The links still valid (not revoked, not expired), oldest first; with ``ended``,
    every link the organisation ever had (the revoked and expired ones too)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return [_link(r) for r in wall_links.rows(conn, oid, None if ended else now_ms())]


def revoke_link(engine: Engine, org: str, link_id: int, actor: str | None = None) -> None:
    """Revoke one link (again: no change); NotFound when the organisation has no such."""
    if not 1 <= link_id <= INT64_MAX:
        raise NotFound(f"no wall link {link_id} in this organisation")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = wall_links.revoke(conn, oid, link_id, now_ms(), actor)
    if not found:
        raise NotFound(f"no wall link {link_id} in this organisation")
    log.info("wall link %d of %s revoked by %s", link_id, org, actor)


def revoke_all(engine: Engine, org: str, actor: str | None = None) -> int:
    """Revoke every link of the organisation; how many were not revoked yet."""
    with engine.begin() as conn:
        count = wall_links.revoke(conn, org_id(conn, org), None, now_ms(), actor)
    log.info("%d wall link(s) of %s revoked by %s", count, org, actor)
    return count


def ended_among(engine: Engine, link_ids: set[int]) -> set[int]:
    """Which of these links are revoked or expired: the walls they opened stop."""
    if not link_ids:
        return set()
    with reading(engine) as conn:
        valid = wall_links.valid_among(conn, link_ids, now_ms())
    return link_ids - valid
