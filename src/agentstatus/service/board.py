"""One page of the live board, read by the database: the agents of the page (a search, a
status, an offset), how many match, the count of everyone in each status, and the event
the page reflects, all from one consistent snapshot.

A 50,000-agent organisation's board was every agent read, shaped and rendered on each
load (26 MB, seconds of CPU); a page reads its own rows and one aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select

from agentstatus.service.organisations import org_id
from agentstatus.service.presence import _PRESENCE_QUERY, AgentPresence
from agentstatus.storage.commit_order import CommitFence, consistent_read
from agentstatus.storage.database import reading
from agentstatus.storage.schema import SHOWN_NAME, agents, extensions, presence


@dataclass(frozen=True, slots=True)
class BoardPage:
    agents: list[AgentPresence]
    matching: int
    """Agents that match the search and the status (on every page)."""
    total: int
    counts: dict[int, int]
    """Active agents in each status, whatever the search."""
    cursor: int
    """The id of the last event the page reflects: its stream starts after it."""


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


def board_page(
    engine: Engine,
    fence: CommitFence,
    org: str,
    *,
    needle: str,
    status: int | None,
    offset: int,
    limit: int,
) -> BoardPage:
    """The page of agents in name order (then user id) after ``offset``. Raises
    TimeoutError when no consistent snapshot could be had in time."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
    # The rows and the cursor agree (as the streams' snapshot), and no writer waits.
    with consistent_read(engine, fence, oid) as (conn, last):
        counts = {
            int(r.status): int(r.n)
            for r in conn.execute(
                select(presence.c.status, func.count().label("n"))
                .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
                .where(presence.c.org_id == oid, agents.c.active)
                .group_by(presence.c.status)
            )
        }
        wanted = _PRESENCE_QUERY.where(
            agents.c.org_id == oid, agents.c.active, _matching(needle, status)
        )
        if needle:
            matching = int(
                conn.execute(
                    select(func.count()).select_from(wanted.order_by(None).subquery())
                ).scalar_one()
            )
        else:  # the counts' own rows (the extension's and status's joins are outer)
            matching = sum(counts.values()) if status is None else counts.get(status, 0)
        rows = conn.execute(
            wanted.order_by(None).order_by(SHOWN_NAME, agents.c.user_id).offset(offset).limit(limit)
        )
        found = [
            AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms)
            for r in rows
        ]
    return BoardPage(found, matching, sum(counts.values()), counts, last)
