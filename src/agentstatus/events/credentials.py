"""What opened an event stream: an API token, a web session or a panel link. Their ids are
of separate tables; a stream is capped per credential and ends when its credential is revoked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Credential:
    kind: Literal["token", "session", "panel"]
    id: int


def token(token_id: int) -> Credential:
    return Credential("token", token_id)


def session(session_id: int) -> Credential:
    return Credential("session", session_id)


def panel(link_id: int) -> Credential:
    return Credential("panel", link_id)
