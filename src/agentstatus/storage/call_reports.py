"""The reads of the calls report (SPEC 8): each agent's changes with whether a wrap-up made
them, its answered and ended calls and its missed calls, and the statuses that take calls.
Where each agent stood at the range's start comes from ``storage.reports.surroundings``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
from sqlalchemy import Connection, or_, select

from agentstatus.domain.catalogue import LOGIN
from agentstatus.domain.event_types import (
    CALL_ANSWERED,
    CALL_ENDED,
    MISSED_CALL_EVENT,
    WRAP_UP_EVENT,
)
from agentstatus.storage.history import IS_CHANGE
from agentstatus.storage.schema import agents, history, statuses

# Agents per lookup: SQLite allows 999 bound parameters by default.
_CHUNK = 500


@dataclass
class AgentEvents:
    """One agent's events of the calls report, each list in order of time."""

    changes: list[tuple[int, int, int, bool]] = field(default_factory=list)
    """(previous status, new status, instant, whether a wrap-up made it)."""
    answered: list[tuple[int, str]] = field(default_factory=list)
    """(instant, call id) of each ``call.answered``."""
    ended: list[tuple[int, str]] = field(default_factory=list)
    """(instant, call id) of each ``call.ended``."""
    missed: list[int] = field(default_factory=list)
    """The instant of each ``agent.missed_call``."""


def statuses_taking_calls(conn: Connection, oid: int) -> frozenset[int]:
    """The organisation's statuses that take calls: Login always (as the phone system's
    seats read it, ``storage.pbx_seats``), and those marked available."""
    rows = conn.execute(
        select(statuses.c.status_id).where(statuses.c.org_id == oid, statuses.c.available)
    )
    return frozenset({LOGIN, *(int(r.status_id) for r in rows)})


def in_wrap_up_before(
    conn: Connection, oid: int, agent_ids: Sequence[int], start_ms: int
) -> set[int]:
    """The agents whose last change before ``start_ms`` was a wrap-up's (so still in it)."""
    last_kind = (
        select(history.c.kind)
        .where(
            history.c.org_id == oid,
            history.c.agent_id == agents.c.id,
            history.c.at_ms < start_ms,
            IS_CHANGE,
        )
        .order_by(history.c.at_ms.desc(), history.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    found: set[int] = set()
    for at in range(0, len(agent_ids), _CHUNK):
        rows = conn.execute(
            select(agents.c.id, last_kind.label("kind")).where(
                agents.c.id.in_(agent_ids[at : at + _CHUNK])
            )
        )
        found.update(int(r.id) for r in rows if r.kind == WRAP_UP_EVENT)
    return found


def _call_id(text: str | None) -> str:
    """The call's id from the row's ``call`` JSON ('' when unreadable: never paired)."""
    try:
        value = orjson.loads(text or "null")
    except orjson.JSONDecodeError:
        return ""
    return str(value.get("id", "")) if isinstance(value, dict) else ""


def calls_report_events(
    conn: Connection,
    oid: int,
    since_ms: int,
    end_ms: int,
    agent_ids: Sequence[int] | None,
) -> dict[int, AgentEvents]:
    """Agent id: its changes, calls answered and ended, and missed calls with
    ``since <= at < end`` (``since`` before the range: a call answered before it may end in
    it, or the agent log out before it ends), of every agent of the organisation when
    ``agent_ids`` is None."""
    kinds = (CALL_ANSWERED, CALL_ENDED, MISSED_CALL_EVENT)
    query = (
        select(
            history.c.agent_id,
            history.c.kind,
            history.c.prev_status,
            history.c.new_status,
            history.c.at_ms,
            history.c.call,
        )
        .where(
            history.c.org_id == oid,
            history.c.at_ms >= since_ms,
            history.c.at_ms < end_ms,
            or_(history.c.kind.in_(kinds), IS_CHANGE),
        )
        .order_by(history.c.agent_id, history.c.at_ms, history.c.id)
    )
    if agent_ids is not None:
        query = query.where(history.c.agent_id.in_(agent_ids))
    found: dict[int, AgentEvents] = {}
    for r in conn.execute(query):
        events = found.setdefault(int(r.agent_id), AgentEvents())
        at = int(r.at_ms)
        if r.kind == CALL_ANSWERED:
            events.answered.append((at, _call_id(r.call)))
        elif r.kind == CALL_ENDED:
            events.ended.append((at, _call_id(r.call)))
        elif r.kind == MISSED_CALL_EVENT:
            events.missed.append(at)
        else:
            change = (int(r.prev_status), int(r.new_status), at, r.kind == WRAP_UP_EVENT)
            events.changes.append(change)
    return found
