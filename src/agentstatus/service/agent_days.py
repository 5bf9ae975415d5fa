"""One agent's day, as the web shows it: who the agent is and where it stands now, the
status it was in at an instant, and every change of a time range.

The status at an instant is read as the reports read it (service/reports.py): the one
the last earlier change set, else the one the first later change left, else the current
one (an agent whose status never changed is in it since it exists). The totals of a day
therefore agree with the time-in-status report over the same day.
"""

from __future__ import annotations

from agentstatus.service.errors import NotFound
from agentstatus.service.history import MAX_PAGE, HistoryEvent, read_history
from agentstatus.service.organisations import org_id
from agentstatus.storage.agent_days import AgentNow as AgentNow
from agentstatus.storage.agent_days import agent_presence, status_around
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


def agent_now(engine: Engine, org: str, user_id: str) -> AgentNow:
    """The agent (active or not) and its presence, or NotFound."""
    with reading(engine) as conn:
        row = agent_presence(conn, org_id(conn, org), user_id)
    if row is None:
        raise NotFound(f"no agent {user_id[:128]!r} in {org}")
    return row


def status_at(engine: Engine, org: str, user_id: str, at_ms: int) -> int | None:
    """The agent's status at ``at_ms`` from its history; None when it has none."""
    with reading(engine) as conn:
        return status_around(conn, org_id(conn, org), user_id, at_ms)


def changes_between(
    engine: Engine, org: str, user_id: str, start_ms: int, end_ms: int
) -> list[HistoryEvent]:
    """Every change of the agent with ``start <= at < end``, oldest first (all pages)."""
    found: list[HistoryEvent] = []
    after: int | None = None
    while True:
        page = read_history(
            engine,
            org,
            user_id=user_id,
            start_ms=start_ms,
            end_ms=end_ms,
            after=after,
            limit=MAX_PAGE,
            changes_only=True,
        )
        found.extend(page.events)
        if page.next_after is None:
            return sorted(found, key=lambda e: (e.at_ms, e.id))
        after = page.next_after
