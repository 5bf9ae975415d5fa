"""Callers waiting in the phone system's queues (issue 24, pure): what the adapters hear,
as the link hands it to ``service.queues``.

Asterisk says a caller joined (``QueueCallerJoin``), left (``QueueCallerLeave``: answered,
timed out or gone), was answered (``AgentConnect``, *after* its leave) or hung up while waiting
(``QueueCallerAbandon``, *before* its leave). FreeSWITCH's mod_callcenter says joined
(``member-queue-start``), answered (``bridge-agent-start``) and left (``member-queue-end``,
``CC-Cause`` ``Cancel`` when the caller hung up while waiting, at the end of the call
otherwise). The same four changes describe both; the service keeps the callers waiting
(joined and not yet left, answered or abandoned) and writes one ``queue.*`` event each.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.clock import to_iso

DEFAULT_SERVICE_LEVEL_SECONDS = 20
"""Answered within this many seconds of waiting counts in a queue's service level, unless
the queue's own threshold says otherwise (the industry's 80/20 habit)."""
MAX_SERVICE_LEVEL_SECONDS = 3600
MAX_PHONE = 64
"""A caller's number is cut to this many characters (the phone system's caller id)."""
MAX_CALL_ID = 128


class CallerChange(StrEnum):
    """What happened to a caller in a queue; the event's kind is ``queue.caller_<value>``."""

    JOINED = "joined"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class QueueCaller:
    """One caller in one queue, as the phone system names them."""

    queue: str
    call_id: str
    """The caller's channel: Asterisk's ``Uniqueid``, FreeSWITCH's member session uuid."""
    phone: str
    """The caller's number, "" when the phone system does not know it (``<unknown>``)."""


@dataclass(frozen=True, slots=True)
class CallerEvent:
    """A change of one caller, heard at ``at_ms``."""

    caller: QueueCaller
    change: CallerChange
    at_ms: int
    joined_ms: int | None = None
    """When the caller joined, where the phone system says (else the service knows)."""
    wait_ms: int | None = None
    """How long the caller waited, where the phone system says (``HoldTime``)."""
    member: str = ""
    """Answered: the seat that answered (Asterisk's member interface, FreeSWITCH's agent
    name), for the link to name the agent."""
    user_id: str = ""
    """Answered: the agent logged in at ``member``, as the link found them ("" unknown)."""


@dataclass(frozen=True, slots=True)
class WaitingNow:
    """Every caller waiting in ``queue`` as read on (re)connecting (Asterisk
    ``QueueStatus``' ``QueueEntry`` items, FreeSWITCH ``callcenter_config queue list
    members``): callers not in it are no longer waiting, new ones joined meanwhile."""

    queue: str
    callers: tuple[tuple[QueueCaller, int], ...]
    """Each waiting caller and when it joined (ms)."""
    at_ms: int


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    caller: QueueCaller
    joined_ms: int


@dataclass(frozen=True, slots=True)
class QueueSettings:
    id: int
    """The queue's number in agentstatus (GetQueuesCallers' ``ID``)."""
    name: str
    service_level_seconds: int
    weight: int
    """GetQueuesCallers' ``Weight`` (Asterisk's queue weight; 0 unless set)."""

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "id": self.id,
            "weight": self.weight,
            "service_level_seconds": self.service_level_seconds,
        }


@dataclass(frozen=True, slots=True)
class DayFigures:
    """A queue's callers of one day whose waits ended (or began: ``offered``)."""

    offered: int = 0
    """Callers who joined."""
    answered: int = 0
    abandoned: int = 0
    """Callers who hung up while waiting."""
    answered_within: int = 0
    """Answered within the queue's service-level threshold."""
    answered_wait_ms: int = 0
    """The answered callers' waits, summed."""

    @property
    def service_level(self) -> float | None:
        """Answered within the threshold, of the callers answered or abandoned (None
        before the first)."""
        ended = self.answered + self.abandoned
        return None if ended == 0 else self.answered_within / ended

    @property
    def average_wait_ms(self) -> int | None:
        """The answered callers' average wait (the average speed of answer)."""
        return None if self.answered == 0 else self.answered_wait_ms // self.answered


@dataclass(frozen=True, slots=True)
class QueueNow:
    """A queue as the wall and GetQueuesCallers show it: its callers waiting, longest
    first, and its figures of today."""

    settings: QueueSettings
    waiting: tuple[WaitingCaller, ...]
    today: DayFigures

    def longest_wait_ms(self, now_ms: int) -> int:
        return max((now_ms - w.joined_ms for w in self.waiting), default=0)

    def as_json(self, now_ms: int) -> dict[str, object]:
        """The native API's and ``agentstatus queues --json``'s shape: waits in whole
        seconds at ``now_ms``, the average wait to the millisecond."""
        s, day = self.settings, self.today
        average = day.average_wait_ms
        return {
            "name": s.name,
            "id": s.id,
            "weight": s.weight,
            "service_level_seconds": s.service_level_seconds,
            "waiting": [
                {
                    "phone": w.caller.phone,
                    "call_id": w.caller.call_id,
                    "joined_at": to_iso(w.joined_ms),
                    "wait_seconds": max(0, now_ms - w.joined_ms) // 1000,
                }
                for w in self.waiting
            ],
            "today": {
                "offered": day.offered,
                "answered": day.answered,
                "abandoned": day.abandoned,
                "answered_within": day.answered_within,
                "service_level": day.service_level,
                "average_wait_seconds": None if average is None else average / 1000,
                "longest_wait_seconds": self.longest_wait_ms(now_ms) // 1000,
            },
        }


def clean_phone(number: str) -> str:
    """The caller's number as shown: "" for Asterisk's ``<unknown>``, cut to MAX_PHONE."""
    number = number.strip()
    if number in {"<unknown>", "unknown", "anonymous"}:
        return ""
    return number[:MAX_PHONE]
