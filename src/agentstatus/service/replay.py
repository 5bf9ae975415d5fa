"""The floor as it was at a past instant, rebuilt from the history: for each agent that
existed then, its last change at or before the instant (none: logged out)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.history import IS_CHANGE
from agentstatus.storage.schema import agents, history


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
        # One index lookup per agent on (org, agent, time), not a scan of the history.
        last = (
            select(history.c.id)
            .where(
                history.c.org_id == oid,
                history.c.agent_id == agents.c.id,
                history.c.at_ms <= at_ms,
                IS_CHANGE,  # a warning leaves the agent where it was, since when it was
            )
            .order_by(history.c.at_ms.desc(), history.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        found = conn.execute(
            select(agents.c.user_id, agents.c.created_ms, last.label("hid"))
            .where(agents.c.org_id == oid, agents.c.active, agents.c.created_ms <= at_ms)
            .order_by(agents.c.user_id)
        ).all()
        ids = [r.hid for r in found if r.hid is not None]
        changes = (
            {
                r.id: r
                for r in conn.execute(
                    select(
                        history.c.id, history.c.new_extension, history.c.new_status, history.c.at_ms
                    ).where(history.c.id.in_(ids))
                )
            }
            if ids
            else {}
        )
    floor: list[PastPresence] = []
    for r in found:
        change = changes.get(r.hid)
        if change is None:
            floor.append(PastPresence(r.user_id, None, LOGOUT, r.created_ms))
        else:
            floor.append(
                PastPresence(r.user_id, change.new_extension, change.new_status, change.at_ms)
            )
    # The agents' last changes bound where playing on starts (a scan of the history for
    # its largest id before the instant would cost as much as the history is long).
    return Floor(at_ms, max(ids, default=0), floor)
