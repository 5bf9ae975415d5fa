"""The append-only history of applied changes, read by agent and time range, in pages."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import ColumnElement, Engine, and_, or_, select

from agentstatus.domain.clock import to_iso
from agentstatus.domain.event_types import WARN_POLICY, event_type, is_change
from agentstatus.domain.integers import INT64_MAX, INT64_MIN
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, history

IS_CHANGE: ColumnElement[bool] = and_(
    or_(history.c.policy.is_(None), history.c.policy != WARN_POLICY), history.c.call.is_(None)
)
"""The history rows that change a status: not a limit's warning nor a call's event (events
that change nothing); in Python, :func:`~agentstatus.domain.event_types.is_change`."""

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    id: int
    user_id: str
    prev_extension: str | None
    new_extension: str | None
    prev_status: int
    new_status: int
    at_ms: int
    source: str
    client_addr: str | None
    policy: str | None = None
    due_ms: int | None = None
    call: str | None = None
    """A call event's call (JSON, as stored)."""

    @property
    def type(self) -> str:
        """agent.login, agent.status, ..., agent.overdue, call.started, ..."""
        return event_type(self.prev_status, self.new_status, self.policy)

    @property
    def is_change(self) -> bool:
        """A change of status, not a warning nor a call's event."""
        return is_change(self.policy)

    def as_json(self) -> dict[str, object]:
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
        return shaped


@dataclass(frozen=True, slots=True)
class HistoryPage:
    events: list[HistoryEvent]
    next_after: int | None
    """Pass as ``after`` to read the next page; None on the last page."""
    next_before: int | None = None
    """Newest first: pass as ``before`` to read the next (older) page; None on the last."""


def read_history(
    engine: Engine,
    org: str,
    *,
    user_id: str | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    after: int | None = None,
    before: int | None = None,
    newest_first: bool = False,
    limit: int = 100,
    changes_only: bool = False,
) -> HistoryPage:
    """Events in commit order (by id) with ``start <= at < end``; with ``newest_first``
    in the reverse order, paged by ``before`` (the web shows the latest change first);
    with ``changes_only``, the changes of status only (``IS_CHANGE``)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if start_ms is not None and end_ms is not None and end_ms < start_ms:
        raise InvalidInput("the end of the range is before its start")
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and not INT64_MIN <= cursor <= INT64_MAX:
            raise InvalidInput(f"{name} {cursor} is not an event id")
    with reading(engine) as conn:
        query = select(history).where(history.c.org_id == org_id(conn, org))
        if user_id is not None:
            # By the agent's row id, so the (org, agent, time) index answers it.
            agent = select(agents.c.id).where(
                agents.c.org_id == history.c.org_id, agents.c.user_id == user_id
            )
            query = query.where(history.c.agent_id.in_(agent.scalar_subquery()))
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
        rows = conn.execute(query.order_by(order).limit(limit + 1)).all()
    events = [
        HistoryEvent(
            r.id,
            r.user_id,
            r.prev_extension,
            r.new_extension,
            r.prev_status,
            r.new_status,
            r.at_ms,
            r.source,
            r.client_addr,
            r.policy,
            r.due_ms,
            r.call,
        )
        for r in rows[:limit]
    ]
    more = events[-1].id if len(rows) > limit else None
    if newest_first:
        return HistoryPage(events, None, more)
    return HistoryPage(events, more)
