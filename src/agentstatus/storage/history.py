"""Reading the history (the event log): one event built from one row, here only, and the
queries of its readers (pages by agent and time, the streams' reads after a cursor)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, select

from agentstatus.domain.event_types import CHANGE_KINDS, QUEUE_EVENTS
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.storage.schema import agents, history

IS_CHANGE: ColumnElement[bool] = history.c.kind.in_(CHANGE_KINDS)
"""The history rows that change a presence: not a limit's warning nor a call's event; in
Python, :func:`~agentstatus.domain.event_types.is_change`."""
IS_QUEUE: ColumnElement[bool] = history.c.kind.in_(QUEUE_EVENTS)
"""A queue's caller's rows: no agent's, even one that names the agent who answered; an
agent's own reads (its history, its stream) leave them out."""


def event_of(org: str, r: Row[Any]) -> HistoryEvent:
    """The event of a history row (every column of ``history``) of organisation ``org``."""
    return HistoryEvent(
        id=r.id,
        org=org,
        user_id=r.user_id,
        prev_extension=r.prev_extension,
        new_extension=r.new_extension,
        prev_status=r.prev_status,
        new_status=r.new_status,
        at_ms=r.at_ms,
        source=r.source,
        kind=r.kind,
        client_addr=r.client_addr,
        policy=r.policy,
        due_ms=r.due_ms,
        call=r.call,
        reason=r.reason,
        actor=r.actor,
        detail=r.detail,
    )


def page(
    conn: Connection,
    org: str,
    oid: int,
    *,
    user_id: str | None,
    start_ms: int | None,
    end_ms: int | None,
    after: int | None,
    before: int | None,
    newest_first: bool,
    limit: int,
    changes_only: bool,
) -> list[HistoryEvent]:
    """Up to ``limit`` events with ``start <= at < end`` between the cursors, by id (or
    by id backwards, ``newest_first``); with ``changes_only``, the changes only; with
    ``user_id``, that agent's own (no queue's caller's)."""
    query = select(history).where(history.c.org_id == oid)
    if user_id is not None:
        # By the agent's row id, so the (org, agent, time) index answers it.
        agent = select(agents.c.id).where(
            agents.c.org_id == history.c.org_id, agents.c.user_id == user_id
        )
        query = query.where(history.c.agent_id.in_(agent.scalar_subquery()), ~IS_QUEUE)
    if start_ms is not None:
        query = query.where(history.c.at_ms >= start_ms)
    if end_ms is not None:
        query = query.where(history.c.at_ms < end_ms)
    if changes_only:
        query = query.where(IS_CHANGE)
    if after is not None:
        query = query.where(history.c.id > after)
    if before is not None:
        query = query.where(history.c.id < before)
    order = history.c.id.desc() if newest_first else history.c.id
    return [event_of(org, r) for r in conn.execute(query.order_by(order).limit(limit))]


def after_cursor(query: Select[Any], oid: int, after: int) -> Select[Any]:
    """The organisation's history rows after the cursor, in id (event) order."""
    return query.where(history.c.org_id == oid, history.c.id > after).order_by(history.c.id)


def ids_after(
    conn: Connection, oid: int, after: int, upto: int | None = None, limit: int | None = None
) -> list[int]:
    query = after_cursor(select(history.c.id), oid, after)
    if upto is not None:
        query = query.where(history.c.id <= upto)
    return [int(x) for x in conn.execute(query.limit(limit)).scalars()]


def events_after(
    conn: Connection,
    org: str,
    oid: int,
    after: int,
    *,
    upto: int | None = None,
    limit: int | None = None,
    user_ids: frozenset[str] | None = None,
) -> list[HistoryEvent]:
    """The events after ``after`` (up to ``upto``), oldest first; with ``user_ids``, only
    those agents' (read by agent, through the (org, agent, time) index)."""
    query = after_cursor(select(history), oid, after)
    if upto is not None:
        query = query.where(history.c.id <= upto)
    if user_ids is not None:
        wanted = select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id.in_(user_ids))
        query = query.where(history.c.agent_id.in_(wanted.scalar_subquery()), ~IS_QUEUE)
    return [event_of(org, r) for r in conn.execute(query.limit(limit))]


def newest_id(conn: Connection, oid: int) -> int:
    """The id of the organisation's newest event (0 for none)."""
    last = conn.execute(
        select(history.c.id).where(history.c.org_id == oid).order_by(history.c.id.desc()).limit(1)
    ).scalar()
    return 0 if last is None else int(last)


def newest_before(conn: Connection, oid: int, before_ms: int) -> int:
    """The id of the organisation's newest event before ``before_ms`` (0 for none)."""
    found = conn.execute(
        select(history.c.id)
        .where(history.c.org_id == oid, history.c.at_ms < before_ms)
        .order_by(history.c.at_ms.desc())
        .limit(1)
    ).scalar()
    return 0 if found is None else int(found)
