"""The callers waiting in an organisation's queues as the board's strip and the agent's
panel show them (issue 24): a queue's name, who waits and since when.

Which queues: the board shows every queue of the phone system's configuration and every
queue a caller was heard in; the panel only the configured ones, since every agent's seat
is in each of those (``pbx/asterisk.py``) and in no other. Without a phone system the
panel has no queues at all (None), and the board's strip stays empty until a caller is
heard of.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.clock import to_iso
from agentstatus.domain.queues import QueueNow
from agentstatus.service.pbx_settings import pbx_state
from agentstatus.service.queues import queues_now
from agentstatus.storage.types import Engine


@dataclass(frozen=True, slots=True)
class QueueShown:
    name: str
    waiting: tuple[tuple[str, int], ...]
    """Each caller waiting: its call id and when it joined (ms), longest waiting first."""

    @property
    def count(self) -> int:
        return len(self.waiting)

    @property
    def oldest_ms(self) -> int | None:
        """When the caller waiting longest joined; None when nobody waits."""
        return min((joined for _, joined in self.waiting), default=None)

    def as_json(self) -> dict[str, object]:
        """As the panel's API answers it: the count and since when the longest wait."""
        oldest = self.oldest_ms
        return {
            "name": self.name,
            "waiting": self.count,
            "longest_since": None if oldest is None else to_iso(oldest),
        }


def _shown(name: str, found: QueueNow | None) -> QueueShown:
    callers = () if found is None else found.waiting
    ordered = sorted(callers, key=lambda w: (w.joined_ms, w.caller.call_id))
    return QueueShown(name, tuple((w.caller.call_id, w.joined_ms) for w in ordered))


def board_queues(engine: Engine, org: str, now_ms: int) -> list[QueueShown]:
    """The configured queues, then those only heard of, each by name."""
    state = pbx_state(engine, org)
    configured = list(state.config.queues) if state is not None else []
    heard = {q.settings.name: q for q in queues_now(engine, org, now_ms)}
    names = sorted(set(configured) | set(heard))
    return [_shown(name, heard.get(name)) for name in names]


def agent_queues(engine: Engine, org: str, now_ms: int) -> list[QueueShown] | None:
    """The configured queues (an agent's seat is in each), in the configuration's order;
    None when the organisation has no phone system."""
    state = pbx_state(engine, org)
    if state is None:
        return None
    heard = {q.settings.name: q for q in queues_now(engine, org, now_ms)}
    return [_shown(name, heard.get(name)) for name in state.config.queues]
