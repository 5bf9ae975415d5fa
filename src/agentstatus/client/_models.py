"""What the endpoints answer, as small immutable objects; each keeps the wire object in
``raw`` so fields this client does not know about (Voicenter sends more) stay reachable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..wire.catalogue import AgentStatus
from ..wire.outcomes import OUTCOMES, Row

__all__ = [
    "AgentStatus",
    "Extension",
    "ExtensionPresence",
    "Queue",
    "QueueCaller",
    "Status",
    "StatusResult",
]

_OK = OUTCOMES[Row.OK]


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The answer to ``SetStatusFromAPI``: its three raw fields, and ``ok``.

    result = client.set_status("1001", "sip1001", 3)
    assert result.ok and result.message == "OK"
    """

    status: int
    status_error: int
    message: str

    @property
    def ok(self) -> bool:
        """True when the change was applied (``Status`` 1, ``StatusError`` 1)."""
        return (self.status, self.status_error) == (_OK.status, _OK.status_error)


@dataclass(frozen=True, slots=True)
class Status:
    """One enabled status of the organisation's catalogue (``GetStatusesList``).

    lunch = next(s for s in client.statuses() if s.name == "Lunch break")
    client.set_status("1001", "sip1001", lunch.id)
    """

    id: int
    name: str
    color: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension (SIP endpoint) of the organisation (``GetExtensions``).

    for ext in client.extensions():
        print(ext.extension, ext.name)
    """

    extension: str
    name: str
    phone: str | None = None
    """The phone's registration (``peerStatus``): "registered", "unregistered", or None
    when the server does not know (or does not say: a server before agentstatus 23)."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ExtensionPresence:
    """Who is logged in at one extension, in which status (``GetExtensionsCalls``).

    busy = [p for p in client.presence() if p.logged_in]
    print([(p.extension, p.user_id, p.status) for p in busy])
    """

    extension: str
    name: str
    user_id: str | None
    status: int
    calls: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def logged_in(self) -> bool:
        """True when an agent holds the extension."""
        return self.user_id is not None


@dataclass(frozen=True, slots=True)
class QueueCaller:
    """One caller waiting in a queue (``GetQueuesCallers``' ``Callers``)."""

    phone: str
    """The caller's number; "" when the phone system hides it."""
    call_id: str
    join_time: int
    """When it joined the queue, in Unix seconds (``JoinTime``)."""
    duration: int
    """Seconds waited so far (``Duration``)."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Queue:
    """One queue of the phone system and its callers waiting, longest first
    (``GetQueuesCallers``).

    for q in client.queues():
        print(q.name, len(q.callers), max((c.duration for c in q.callers), default=0))
    """

    name: str
    id: int
    weight: int
    callers: tuple[QueueCaller, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
