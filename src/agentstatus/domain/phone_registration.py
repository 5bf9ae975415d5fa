"""Whether the phone of an extension is registered (SPEC.md 8): what each phone system's
words mean, and the registrations of an extension followed one contact at a time.

A phone state is ``registered``, ``unregistered`` or ``unknown`` (never read: no phone
system connected, or the extension not seen by it yet). Asterisk says it three ways, all
followed: ``ContactStatus`` per contact of a PJSIP AOR, ``PeerStatus`` per endpoint (PJSIP
or chan_sip) and ``DeviceStateChange`` per device; FreeSWITCH's mod_sofia fires
``sofia::register``, ``sofia::unregister`` and ``sofia::expire`` per registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhoneState(StrEnum):
    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PhoneSeen:
    """The phone system says the phone of ``extension`` is now in ``state``."""

    extension: str
    state: PhoneState


@dataclass(frozen=True, slots=True)
class PhoneOffline:
    """The organisation's phone-offline policy: an agent whose phone stays unregistered
    ``seconds`` while taking calls goes to ``status`` (one that takes no calls)."""

    seconds: int
    status: int


# res_pjsip's contact statuses (ast_sip_get_contact_status_label): a contact that exists
# and has not failed its qualify is a registered phone; Unreachable failed it, Removed is
# gone (unregistered or expired).
_CONTACT_UP = frozenset({"created", "reachable", "updated", "nonqualified", "unknown"})
_CONTACT_DOWN = frozenset({"unreachable", "removed"})
# PeerStatus: chan_sip's Registered/Unregistered/Reachable/Lagged/Unreachable/Rejected,
# res_pjsip's Reachable/Unreachable (the endpoint as a whole).
_PEER_UP = frozenset({"registered", "reachable", "lagged"})
_PEER_DOWN = frozenset({"unregistered", "unreachable", "rejected"})
# Device states (ast_devstate_str): UNAVAILABLE is a device with no registered contact;
# UNKNOWN and INVALID say nothing about the phone.
_DEVICE_DOWN = frozenset({"unavailable"})
_DEVICE_UP = frozenset({"not_inuse", "inuse", "busy", "ringing", "ringinuse", "onhold"})


def contact_up(status: str) -> bool | None:
    """A PJSIP contact's status: True (there), False (gone or unreachable), None (other)."""
    word = status.strip().lower()
    if word in _CONTACT_UP:
        return True
    return False if word in _CONTACT_DOWN else None


def peer_state(status: str) -> PhoneState | None:
    """A ``PeerStatus`` event's state, or None for a word that says nothing."""
    word = status.strip().lower()
    if word in _PEER_UP:
        return PhoneState.REGISTERED
    return PhoneState.UNREGISTERED if word in _PEER_DOWN else None


def device_state(state: str) -> PhoneState | None:
    """A device state's meaning for the phone, or None (UNKNOWN, INVALID)."""
    word = state.strip().lower()
    if word in _DEVICE_DOWN:
        return PhoneState.UNREGISTERED
    return PhoneState.REGISTERED if word in _DEVICE_UP else None


class Registrations:
    """Each extension's live registrations (contacts, or call ids), so that one of two
    phones on an extension unregistering does not make the extension's phone offline."""

    def __init__(self) -> None:
        self._of: dict[str, set[str]] = {}

    def add(self, extension: str, key: str) -> PhoneSeen:
        self._of.setdefault(extension, set()).add(key)
        return PhoneSeen(extension, PhoneState.REGISTERED)

    def remove(self, extension: str, key: str) -> PhoneSeen:
        held = self._of.get(extension, set())
        held.discard(key)
        if held:
            return PhoneSeen(extension, PhoneState.REGISTERED)
        self._of.pop(extension, None)
        return PhoneSeen(extension, PhoneState.UNREGISTERED)

    def reset(self, found: dict[str, set[str]]) -> None:
        """What a listing read: everything before it is forgotten."""
        self._of = {k: set(v) for k, v in found.items() if v}


def merged(seen: list[PhoneSeen]) -> dict[str, PhoneState]:
    """The last state said of each extension, in order."""
    return {s.extension: s.state for s in seen}
