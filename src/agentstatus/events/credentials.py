"""What opened an event stream: an API token, a web session, a panel link, a wall link or a
Voicenter monitor login (its sockets). Their ids are of separate tables; a stream is capped
per credential and per owner (the web user of a session, the agent of a panel link: new
sessions or links do not lift the cap), and ends when its credential is revoked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Credential:
    kind: Literal["token", "session", "panel", "wall", "monitor"]
    id: int
    owner: str | None = field(default=None, compare=False)
    """Whose it is, when several credentials can be one person's (``user:7``, ``agent:3``);
    not part of its identity (revocation matches by kind and id)."""


def token(token_id: int) -> Credential:
    return Credential("token", token_id)


def session(session_id: int, user_id: int | None = None) -> Credential:
    return Credential("session", session_id, None if user_id is None else f"user:{user_id}")


def panel(link_id: int, agent_id: int | None = None) -> Credential:
    return Credential("panel", link_id, None if agent_id is None else f"agent:{agent_id}")


def monitor(grant_id: int, owner: str | None = None) -> Credential:
    """A Voicenter monitor login (``/monitorAPI/Login/...``): its sockets; ``owner`` the
    API token or web user it was made from (``token:3``, ``user:7``), so that logging in
    again does not lift the cap."""
    return Credential("monitor", grant_id, owner)


def wall(link_id: int, org_id: int | None = None) -> Credential:
    return Credential("wall", link_id, None if org_id is None else f"org:{org_id}")
