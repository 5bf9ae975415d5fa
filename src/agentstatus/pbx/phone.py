"""What the link asks of a phone system, whichever it is."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from agentstatus.domain.calls import Call, CallBook, Changed
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.phone_registration import PhoneSeen
from agentstatus.domain.queues import CallerEvent, WaitingNow
from agentstatus.domain.seats import Seat

STALE_ECHO_SECONDS = 1.0
"""An event matching an earlier command than the latest is taken for that command's late
echo only this soon after it (the phone system answers within a round trip)."""


class PhoneError(Exception):
    """The phone system cannot be reached, refused us, or did not do what was asked. The
    message names the host and the action, never the secret."""


class LoginRefused(PhoneError):
    """The phone system refused our credentials: trying again soon only earns a ban
    (fail2ban on Asterisk's security log), so the link waits minutes before the next try."""


class BoundCrossed(PhoneError):
    """The phone system sent more than a connection may make us hold (a line, a message,
    a backlog, a rate): the connection was dropped. Like a refused login, retrying at once
    only invites it again."""


@dataclass(frozen=True, slots=True)
class PauseAtPhone:
    """A member paused or unpaused at the phone (a feature code, the PBX's panel), or
    logged out there (FreeSWITCH's ``Logged Out``)."""

    key: str
    paused: bool
    reason: str
    logged_out: bool = False


@dataclass(frozen=True, slots=True)
class Reconciled:
    checked: int
    """Seats compared."""
    repaired: int
    """Differences repaired (a queue membership, a pause, a contact, a status)."""


@dataclass(frozen=True, slots=True)
class Drift:
    """A member (``key``) changed at the phone system in a way agentstatus did not ask for
    (removed, added, paused differently): the link sets it to what presence says, at once."""

    key: str


@dataclass(frozen=True, slots=True)
class Resync:
    """The phone system (re)loaded its state (Asterisk's ``FullyBooted`` after a restart,
    ``app_queue`` reloaded): reconcile every member now."""

    why: str


PhoneEvent = PauseAtPhone | Changed | Drift | Resync | MissedOffer | PhoneSeen | CallerEvent


def ends_batch(found: list[PhoneEvent]) -> bool:
    """A batch of events ends after a missed call: the link stores a batch's calls before
    the rest of it, and a missed call must be counted after the calls before it (an answered
    one resets the count) and before those after it."""
    return bool(found) and isinstance(found[-1], MissedOffer)


class Echoes:
    """The pause states agentstatus asked for, so that the events they cause are not taken
    for changes made at the phone (no echo loops).

    An event is an echo when it reports the state last asked for, or an earlier one asked
    for within ``STALE_ECHO_SECONDS`` (Lunch then Login at once: Lunch's event may come
    after Login was asked). Anything else was done at the phone."""

    def __init__(self) -> None:
        self._asked: dict[str, list[tuple[bool, str, float]]] = {}

    def asked(self, key: str, paused: bool, reason: str) -> None:
        now = time.monotonic()
        kept = [a for a in self._asked.get(key, []) if now - a[2] < STALE_ECHO_SECONDS]
        self._asked[key] = [*kept[-8:], (paused, reason.casefold() if paused else "", now)]

    def is_echo(self, event: PauseAtPhone) -> bool:
        asked = self._asked.get(event.key)
        if not asked:
            return False
        now = time.monotonic()

        def same(paused: bool, reason: str) -> bool:
            # FreeSWITCH reports no reason; Asterisk reports the one asked for.
            return paused == event.paused and (
                not paused or not event.reason or reason == event.reason.casefold()
            )

        latest = asked[-1]
        if same(latest[0], latest[1]):
            return True
        return any(now - at < STALE_ECHO_SECONDS and same(p, r) for p, r, at in asked[:-1])


class PhoneSystem(Protocol):
    commands: int
    """Commands sent since the connection opened."""
    calls: CallBook
    """The connection's live calls."""
    extensions: frozenset[str]
    """The organisation's extensions (the link keeps them current while connected)."""

    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def reconcile(self, desired: dict[str, Seat]) -> Reconciled: ...

    async def apply(self, seat: Seat) -> None: ...

    async def live_calls(self) -> list[Call]: ...

    async def registrations(self) -> list[PhoneSeen]:
        """The phones' registrations now (on connect)."""
        ...

    async def waiting(self) -> list[WaitingNow]:
        """The callers waiting in each configured queue now (on connect): one
        :class:`WaitingNow` per queue read."""
        ...

    async def events(self) -> list[PhoneEvent] | None:
        """The next events (None once the connection is lost)."""
        ...

    async def close(self) -> None: ...
