"""The append-only history of applied changes, read by agent and time range, in pages."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.integers import INT64_MAX, INT64_MIN
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.storage import history
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

__all__ = ["MAX_PAGE", "HistoryEvent", "HistoryPage", "read_history"]

MAX_PAGE = 1000


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
    with ``changes_only``, the changes of presence only (``is_change``)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if start_ms is not None and end_ms is not None and end_ms < start_ms:
        raise InvalidInput("the end of the range is before its start")
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and not INT64_MIN <= cursor <= INT64_MAX:
            raise InvalidInput(f"{name} {cursor} is not an event id")
    with reading(engine) as conn:
        found = history.page(
            conn,
            org,
            org_id(conn, org),
            user_id=user_id,
            start_ms=start_ms,
            end_ms=end_ms,
            after=after,
            before=before,
            newest_first=newest_first,
            limit=limit + 1,
            changes_only=changes_only,
        )
    events = found[:limit]
    more = events[-1].id if len(found) > limit else None
    if newest_first:
        return HistoryPage(events, None, more)
    return HistoryPage(events, more)
