"""Missed calls (SPEC 8): a call offered to an agent that rang out unanswered, and the
organisation's rule that moves an agent who misses several in a row (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.seats import OTHER

DEFAULT_STATUS = OTHER
"""The status the rule moves to unless another is chosen: 9, Other."""
MAX_COUNT = 100
"""The most missed calls in a row the rule may wait for (more is no rule at all)."""


@dataclass(frozen=True, slots=True)
class MissedOffer:
    """The phone system offered a call to a seat (``key``: Asterisk's member interface,
    FreeSWITCH's agent name) and it rang out unanswered (Asterisk ``AgentRingNoAnswer``,
    FreeSWITCH mod_callcenter ``bridge-agent-fail``)."""

    key: str
    queue: str
    ring_ms: int | None
    """How long it rang, when the phone system says."""

    def detail(self, count: int) -> dict[str, object]:
        """The history row's detail: the missed calls in a row, this one included."""
        return {"count": count, "queue": self.queue, "ring_ms": self.ring_ms}


@dataclass(frozen=True, slots=True)
class MissedCallsRule:
    """After ``count`` calls in a row offered and not answered, the agent goes to
    ``status`` (one that takes no calls)."""

    count: int
    status: int


def check_rule(count: int, status: int, *, enabled: bool, available: bool, name: str) -> None:
    """Raise ValueError, with words for the person who asked, unless the rule can act."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"the count of missed calls is 1 to {MAX_COUNT}, not {count}")
    if status == LOGOUT:
        raise ValueError(
            "the status after missed calls cannot be Logout: choose one that takes no calls"
        )
    if not enabled:
        raise ValueError(f"status {status} ({name}) is disabled: choose an enabled one")
    if available:
        raise ValueError(f"status {status} ({name}) takes calls: choose one that takes no calls")


def moves_to(
    rule: MissedCallsRule | None, in_a_row: int, current: int, takes_calls: bool
) -> int | None:
    """The status an agent goes to after ``in_a_row`` missed calls, or None: only with a
    rule, once the count is reached, and only from a status that takes calls (an agent
    already on a break stays on it)."""
    if rule is None or in_a_row < rule.count or not takes_calls or current == rule.status:
        return None
    return rule.status
