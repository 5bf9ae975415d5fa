"""The status queued as next (SPEC 8): asked for while the agent is on a call or in wrap-up,
applied when the call and its wrap-up end (``service/wrap_up.py``). One per agent; a new one
replaces it; any applied change clears it (the row is valid only at the presence version it
was queued at, carried across the change into wrap-up). Queuing and clearing are recorded
as ``agent.next_status`` history rows, the agent's statuses unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import NEXT_STATUS_EVENT
from agentstatus.service import validation
from agentstatus.service.errors import InvalidInput, NotFound, NotOnCall
from agentstatus.service.organisations import org_id
from agentstatus.storage import wrap_up as store
from agentstatus.storage.database import reading
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.types import Connection, Engine
from agentstatus.storage.wrap_up import AgentNow, NextStatus


@dataclass(frozen=True, slots=True)
class Queued:
    """What was written: the organisation and agent, for the caller to announce and show."""

    oid: int
    agent_id: int
    history_id: int | None


def _agent(conn: Connection, oid: int, user_id: str) -> AgentNow:
    agent = store.agent_of(conn, oid, user_id)
    if agent is None:
        raise NotFound(f"no agent {user_id!r} in this organisation")
    return agent


def on_call_or_wrap_up(conn: Connection, oid: int, agent: AgentNow) -> bool:
    if agent.status == LOGOUT or agent.extension is None:
        return False
    if store.calls_at(conn, oid, agent.extension, answered=False):
        return True
    return store.wrap_up_of(conn, agent.agent_id, agent.version) is not None


def _record(
    conn: Connection,
    oid: int,
    agent: AgentNow,
    nxt: NextStatus | None,
    source: Source,
    actor: str | None,
    at: int,
) -> int:
    return append_event(
        conn,
        standing(
            org_id=oid,
            agent_id=agent.agent_id,
            user_id=agent.user_id,
            extension=agent.extension,
            status=agent.status,
            at_ms=at,
            source=source.value,
            kind=NEXT_STATUS_EVENT,
            actor=actor,
            detail=orjson.dumps({"status": None if nxt is None else nxt.status}).decode(),
        ),
    )


def queue_next(
    engine: Engine, org: str, user_id: str, status: int, source: Source, actor: str | None = None
) -> Queued:
    """Queue ``status`` for when the agent's call and wrap-up end (replacing one queued
    before). NotOnCall when the agent is neither on a call nor in wrap-up."""
    validation.status_id(status)
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, org)
        agent = _agent(conn, oid, user_id)
        return _queue(conn, oid, agent, status, source, actor, at)


def queue_next_of_agent(
    engine: Engine, oid: int, agent_id: int, status: int, source: Source, actor: str | None = None
) -> Queued:
    """:func:`queue_next` for an agent known by its row id (the panel's)."""
    validation.status_id(status)
    at = now_ms()
    with engine.begin() as conn:
        agent = store.agent_by_id(conn, agent_id)
        if agent is None:
            raise NotFound("the agent is gone")
        return _queue(conn, oid, agent, status, source, actor, at)


def _queue(
    conn: Connection,
    oid: int,
    agent: AgentNow,
    status: int,
    source: Source,
    actor: str | None,
    at: int,
) -> Queued:
    if not on_call_or_wrap_up(conn, oid, agent):
        raise NotOnCall(
            f"agent {agent.user_id!r} is neither on a call nor in wrap-up: "
            "set the status itself instead of queuing it"
        )
    facts = store.status_facts(conn, oid, status)
    if facts is None or not facts.enabled:
        raise InvalidInput(f"status {status} is not an enabled status of this organisation")
    nxt = NextStatus(status, source.value, actor, at)
    store.save_next(conn, oid, agent.agent_id, agent.version, nxt)
    return Queued(oid, agent.agent_id, _record(conn, oid, agent, nxt, source, actor, at))


def clear_next(
    engine: Engine, org: str, user_id: str, source: Source, actor: str | None = None
) -> Queued:
    """Drop the agent's queued status; recorded only when there was one."""
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, org)
        agent = _agent(conn, oid, user_id)
        had = store.next_of(conn, agent.agent_id, agent.version)
        store.clear_next(conn, agent.agent_id)
        written = None if had is None else _record(conn, oid, agent, None, source, actor, at)
        return Queued(oid, agent.agent_id, written)


def next_status_of(engine: Engine, agent_id: int) -> int | None:
    """The agent's queued status, if one is pending."""
    with reading(engine) as conn:
        agent = store.agent_by_id(conn, agent_id)
        if agent is None:
            return None
        found = store.next_of(conn, agent_id, agent.version)
    return None if found is None else found.status


def next_statuses(conn: Connection, oid: int) -> dict[str, int]:
    """The organisation's pending queued statuses by user id."""
    return store.next_by_agent(conn, oid)


def next_statuses_of_org(engine: Engine, org: str) -> dict[str, int]:
    """The pending queued statuses of organisation ``org`` (by name), by user id (the board)."""
    with reading(engine) as conn:
        return store.next_by_agent(conn, org_id(conn, org))
