"""The floor as it was at a past instant, rebuilt from the history: for each agent that
existed then, its last change at or before the instant (none: logged out)."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.replay import agents_at, changes_by_id
from agentstatus.storage.types import Engine


@dataclass(frozen=True, slots=True)
class PastPresence:
    user_id: str
    extension: str | None
    status: int
    since_ms: int

    def as_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "extension": self.extension,
            "status": self.status,
            "since_ms": self.since_ms,
        }


@dataclass(frozen=True, slots=True)
class Floor:
    at_ms: int
    cursor: int
    """The id of the last event at or before the instant: playing on starts after it."""
    agents: list[PastPresence]


def floor_at(engine: Engine, org: str, at_ms: int) -> Floor:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        found = agents_at(conn, oid, at_ms)
        ids = [a.last_change for a in found if a.last_change is not None]
        changes = changes_by_id(conn, ids)
    floor: list[PastPresence] = []
    for agent in found:
        change = None if agent.last_change is None else changes.get(agent.last_change)
        if change is None:
            floor.append(PastPresence(agent.user_id, None, LOGOUT, agent.created_ms))
        else:
            floor.append(
                PastPresence(agent.user_id, change.new_extension, change.new_status, change.at_ms)
            )
    # The agents' last changes bound where playing on starts (a scan of the history for
    # its largest id before the instant would cost as much as the history is long).
    return Floor(at_ms, max(ids, default=0), floor)
