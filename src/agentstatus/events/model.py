"""An event is one history row, typed and shaped for subscribers and webhooks."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from agentstatus.domain.clock import to_iso
from agentstatus.domain.event_types import event_type


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    org: str
    user_id: str
    prev_extension: str | None
    new_extension: str | None
    prev_status: int
    new_status: int
    at_ms: int
    source: str
    policy: str | None = None
    due_ms: int | None = None
    call: str | None = None
    """A call event's call, as stored (JSON)."""

    @property
    def type(self) -> str:
        return event_type(self.prev_status, self.new_status, self.policy)

    def as_json(self) -> dict[str, object]:
        shaped: dict[str, object] = {
            "id": self.id,
            "type": self.type,
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
        return shaped
