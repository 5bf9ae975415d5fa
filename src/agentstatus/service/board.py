"""One page of the live board, read by the database: the agents of the page (a search, a
status, an offset), how many match, the count of everyone in each status, and the event
the page reflects, all from one consistent snapshot.

A 50,000-agent organisation's board was every agent read, shaped and rendered on each
load (26 MB, seconds of CPU); a page reads its own rows and one aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.service.organisations import org_id
from agentstatus.service.presence import AgentPresence
from agentstatus.storage.board import matching_count, page_rows, status_counts
from agentstatus.storage.commit_order import CommitFence, consistent_read
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


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
        counts = status_counts(conn, oid)
        if needle:
            matching = matching_count(conn, oid, needle, status)
        else:  # the counts' own rows (the extension's and status's joins are outer)
            matching = sum(counts.values()) if status is None else counts.get(status, 0)
        found = [
            AgentPresence(r.user_id, r.name, r.extension, r.status, r.status_name, r.since_ms)
            for r in page_rows(conn, oid, needle, status, offset, limit)
        ]
    return BoardPage(found, matching, sum(counts.values()), counts, last)
