"""The whole history of an organisation, page by page (a page holds at most 1,000)."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.service.history import HistoryEvent, read_history


def all_history(engine: Engine, org: str) -> list[HistoryEvent]:
    events: list[HistoryEvent] = []
    after: int | None = None
    while True:
        page = read_history(engine, org, after=after, limit=1000)
        events.extend(page.events)
        if page.next_after is None:
            return events
        after = page.next_after
