"""Looking at the callers of the phone system's queues as the service has them (issue 24):
who waits in a queue, its figures of today, and the ``queue.*`` events of the log."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms
from agentstatus.domain.queues import DayFigures, QueueNow
from agentstatus.service.history import HistoryEvent
from agentstatus.service.queues import queues_now
from tests.support.history import all_history


def queue_now(engine: Engine, org: str, queue: str) -> QueueNow | None:
    found = queues_now(engine, org, now_ms(), queue=queue)
    return found[0] if found else None


def waiting(engine: Engine, org: str, queue: str) -> list[tuple[str, str]]:
    """(call id, phone) of the callers waiting in ``queue``, longest first."""
    now = queue_now(engine, org, queue)
    return [] if now is None else [(w.caller.call_id, w.caller.phone) for w in now.waiting]


def today(engine: Engine, org: str, queue: str) -> DayFigures:
    now = queue_now(engine, org, queue)
    return DayFigures() if now is None else now.today


def queue_events(engine: Engine, org: str) -> list[HistoryEvent]:
    return [e for e in all_history(engine, org) if e.kind.startswith("queue.")]


def detail(event: HistoryEvent) -> dict[str, object]:
    found: dict[str, object] = orjson.loads(event.detail or "{}")
    return found


def wait(check: Callable[[], bool], what: str, timeout: float = 10.0) -> float:
    """Wait for ``check``; the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)
    return time.monotonic() - start
