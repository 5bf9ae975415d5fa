"""One event of the history (the event log), as every reader sees it: the history API,
the agent's day, replay, the event streams and webhooks."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from agentstatus.domain.clock import to_iso
from agentstatus.domain.event_types import QUEUE_PREFIX, is_change, is_queue


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    id: int
    org: str
    user_id: str
    prev_extension: str | None
    new_extension: str | None
    prev_status: int
    new_status: int
    at_ms: int
    source: str
    kind: str
    """The event type: agent.login, agent.status, ..., agent.overdue, call.started, ..."""
    client_addr: str | None = None
    policy: str | None = None
    due_ms: int | None = None
    call: str | None = None
    """A call event's call (JSON, as stored)."""
    reason: str | None = None
    """Why: a rule's name (wrap-up, missed-calls, ...) or a supervisor's words."""
    actor: str | None = None
    """Who: the web user's e-mail or the API token's label, where the source has one."""
    detail: str | None = None
    """What the event carries beyond the statuses (JSON, as stored), by kind."""

    def _extras(self, shaped: dict[str, object]) -> dict[str, object]:
        """The reason, actor and detail, only where the event has them (the shapes of
        events without them are as they always were); a queue's caller's detail as its
        ``queue`` object."""
        if self.reason is not None:
            shaped["reason"] = self.reason
        if self.actor is not None:
            shaped["actor"] = self.actor
        if self.is_queue:
            shaped["queue"] = self.queue_json()
        elif self.detail is not None:
            shaped["detail"] = orjson.loads(self.detail)
        return shaped

    @property
    def is_queue(self) -> bool:
        """A queue's caller's event (``queue.caller_*``): no agent's."""
        return is_queue(self.kind)

    @property
    def agent_user_id(self) -> str:
        """The agent whose event this is, for an agent's own stream: "" for a queue's
        caller's, even one an agent answered."""
        return "" if self.is_queue else self.user_id

    def queue_json(self) -> dict[str, object]:
        """A queue's caller's event as the streams, webhooks and the history show it: what
        happened (``change``), the queue, the caller, when it joined and how long it
        waited (null for a join), in seconds to the millisecond."""
        detail = orjson.loads(self.detail or "{}")
        joined, wait = detail.get("joined_ms"), detail.get("wait_ms")
        return {
            "change": self.kind.removeprefix(QUEUE_PREFIX),
            "name": detail.get("queue", ""),
            "call_id": detail.get("call_id", ""),
            "phone": detail.get("phone", ""),
            "joined_at": None if joined is None else to_iso(int(joined)),
            "wait_seconds": None if wait is None else int(wait) / 1000,
        }

    @property
    def type(self) -> str:
        return self.kind

    @property
    def is_change(self) -> bool:
        """A change of presence, not a warning nor a call's event."""
        return is_change(self.kind)

    def as_json(self) -> dict[str, object]:
        """The history API's shape (every column but the kind, for the operator)."""
        shaped: dict[str, object] = {
            "id": self.id,
            "user_id": self.user_id,
            "previous": {"extension": self.prev_extension, "status": self.prev_status},
            "new": {"extension": self.new_extension, "status": self.new_status},
            "at": to_iso(self.at_ms),
            "source": self.source,
            "client_addr": self.client_addr,
            "policy": self.policy,
            "due": None if self.due_ms is None else to_iso(self.due_ms),
        }
        if self.call is not None:
            shaped["call"] = orjson.loads(self.call)
        return self._extras(shaped)

    def as_event_json(self) -> dict[str, object]:
        """The shape of the event streams and webhooks (typed, no client address). A
        queue's caller's event has no agent's fields (``user_id`` only when an agent
        answered it) and its ``queue`` object."""
        if self.is_queue:
            queued: dict[str, object] = {"id": self.id, "type": self.kind, "org": self.org}
            if self.user_id:
                queued["user_id"] = self.user_id
            queued.update(at=to_iso(self.at_ms), source=self.source)
            return self._extras(queued)
        shaped: dict[str, object] = {
            "id": self.id,
            "type": self.kind,
            "org": self.org,
            "user_id": self.user_id,
            "previous": {"extension": self.prev_extension, "status": self.prev_status},
            "new": {"extension": self.new_extension, "status": self.new_status},
            "at": to_iso(self.at_ms),
            "source": self.source,
        }
        if self.call is not None:
            shaped["call"] = orjson.loads(self.call)
        elif self.policy is not None:
            # The policy that acted, and when it was due ("at" is when it was applied).
            shaped["policy"] = self.policy
            shaped["due"] = None if self.due_ms is None else to_iso(self.due_ms)
        return self._extras(shaped)
