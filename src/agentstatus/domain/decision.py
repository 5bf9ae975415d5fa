"""Deciding what a status request does: a pure function of what storage knows.

Storage gathers the facts inside its transaction, calls :func:`decide`, and applies the
answer atomically; nothing here does I/O, which is what makes it property-testable.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.wire.outcomes import Row


@dataclass(frozen=True, slots=True)
class Presence:
    """Where an agent is: the extension it holds (None when logged out) and its status."""

    extension: str | None
    status: int


LOGGED_OUT = Presence(extension=None, status=LOGOUT)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the outcomes table asks about, as storage found it.

    ``extension_exists`` is ``None`` when the request names no extension (an admin or
    system logout), which skips row 8.
    """

    agent_active: bool
    address_allowed: bool
    extension_exists: bool | None
    status_enabled: bool
    current: Presence
    extension_holder: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """An applied transition, as recorded in the history."""

    previous: Presence
    new: Presence


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer row, and the change to apply when there is one."""

    row: Row
    change: Change | None = None


def decide(facts: Facts, user_id: str, extension: str | None, status: int | None) -> Decision:
    """Walk rows 6-12 of the outcomes table (rows 1-5 are the wire layer's)."""
    if not facts.agent_active:
        return Decision(Row.AUTHENTICATION_FAILED)
    if not facts.address_allowed:
        return Decision(Row.ADDRESS_NOT_ALLOWED)
    if facts.extension_exists is False:
        return Decision(Row.UNKNOWN_EXTENSION)
    if status is None or not facts.status_enabled:
        return Decision(Row.STATUS_NOT_SUPPORTED)
    current = facts.current
    if status == LOGOUT:
        if current == LOGGED_OUT:
            return Decision(Row.OK)
        return Decision(Row.OK, Change(current, LOGGED_OUT))
    if extension is None:
        # Only logout may omit the extension; anything else needs somewhere to sit.
        return Decision(Row.UNKNOWN_EXTENSION)
    if facts.extension_holder is not None and facts.extension_holder != user_id:
        return Decision(Row.EXTENSION_IN_USE)
    target = Presence(extension=extension, status=status)
    if current == target:
        return Decision(Row.OK)
    return Decision(Row.OK, Change(current, target))
