"""What the agent's panel shows and does around a call (SPEC 8): the wrap-up it is in and
when a timed one ends, the status queued as next, and a status chosen during a call (queued
as next rather than applied: the call is not cut short by a break)."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import to_iso
from agentstatus.domain.commands import Source
from agentstatus.service import next_status
from agentstatus.storage import wrap_up as store
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


@dataclass(frozen=True, slots=True)
class AfterCall:
    in_wrap_up: bool
    wrap_up_until_ms: int | None
    """When a timed wrap-up ends; None for a manual one (or none)."""
    next_status: int | None
    on_call: bool
    """A call is answered (talking or on hold) on the agent's extension."""

    def as_json(self) -> dict[str, object]:
        """The panel's ``after_call``."""
        until = self.wrap_up_until_ms
        return {
            "wrap_up": self.in_wrap_up,
            "wrap_up_until": None if until is None else to_iso(until),
            "next_status": self.next_status,
            "on_call": self.on_call,
        }


NONE = AfterCall(False, None, None, False)


def after_call(engine: Engine, oid: int, agent_id: int) -> AfterCall:
    with reading(engine) as conn:
        agent = store.agent_by_id(conn, agent_id)
        if agent is None:
            return NONE
        wrap = store.wrap_up_of(conn, agent_id, agent.version)
        nxt = store.next_of(conn, agent_id, agent.version)
        # Only the agent's extension: the panel asks after each of its agent's events.
        sip = agent.extension
        answered = 0 if sip is None else store.calls_at(conn, oid, sip, answered=True)
    return AfterCall(
        in_wrap_up=wrap is not None,
        wrap_up_until_ms=None if wrap is None else wrap.due_ms,
        next_status=None if nxt is None else nxt.status,
        on_call=answered > 0,
    )


def queued_instead(engine: Engine, oid: int, agent_id: int, status: int) -> int | None:
    """A status the agent chose on its panel during a call (not in its wrap-up: a choice
    there ends it) is queued as next; the history id of the queuing, or None when the
    status is to be applied now. Logout is never queued."""
    if status == LOGOUT:
        return None
    found = after_call(engine, oid, agent_id)
    if not found.on_call or found.in_wrap_up:
        return None
    queued = next_status.queue_next_of_agent(engine, oid, agent_id, status, Source.PANEL)
    return queued.history_id
