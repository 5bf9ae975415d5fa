"""The reads of a page of the live board: the agents of the page in the shown name order
(a search, a status, an offset), how many match, and the count of active agents in each
status; all on the caller's connection (its snapshot)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from agentstatus.storage.presence import PRESENCE_QUERY
from agentstatus.storage.schema import SHOWN_NAME, agents, extensions, presence


@dataclass(frozen=True, slots=True)
class BoardRow:
    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str | None
    since_ms: int


def status_counts(conn: Connection, oid: int) -> dict[int, int]:
    """Active agents in each status."""
    rows = conn.execute(
        select(presence.c.status, func.count().label("n"))
        .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
        .where(presence.c.org_id == oid, agents.c.active)
        .group_by(presence.c.status)
    )
    return {int(r.status): int(r.n) for r in rows}


def matching_count(conn: Connection, oid: int, needle: str, status: int | None) -> int:
    """Active agents that match the search (a part of the name, user id or extension,
    without case) and the status."""
    wanted = _wanted(oid, needle, status)
    return int(conn.execute(select(func.count()).select_from(wanted.subquery())).scalar_one())


def page_rows(
    conn: Connection, oid: int, needle: str, status: int | None, offset: int, limit: int
) -> list[BoardRow]:
    """The matching agents in the shown name order (then user id), after ``offset``."""
    rows = conn.execute(
        _wanted(oid, needle, status)
        .order_by(SHOWN_NAME, agents.c.user_id)
        .offset(offset)
        .limit(limit)
    )
    return [BoardRow(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms) for r in rows]


def _wanted(oid: int, needle: str, status: int | None) -> Select[tuple[object, ...]]:
    # The presence as shown everywhere, without its user id order (the board sorts by name).
    return PRESENCE_QUERY.order_by(None).where(
        agents.c.org_id == oid, agents.c.active, _matching(needle, status)
    )


def _matching(needle: str, status: int | None) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(presence.c.status == status)
    if needle:
        lowered = needle.lower()
        conditions.append(
            or_(
                func.lower(agents.c.name).contains(lowered, autoescape=True),
                func.lower(agents.c.user_id).contains(lowered, autoescape=True),
                func.lower(extensions.c.sip).contains(lowered, autoescape=True),
            )
        )
    return and_(True, *conditions)
