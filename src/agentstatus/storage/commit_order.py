"""Reading the event log in commit order, after a cursor, and consistent snapshots.

On SQLite one writer commits at a time, so id order is commit order. On PostgreSQL ids
are drawn at insert time, so a row may commit after a row with a larger id, and an event
stream that passed the larger one would never send the smaller. Every writer takes its
transaction id before it draws a history id (``storage.event_log``'s ordering rule),
which gives the guard both readers rely on:

- ``read_events`` reads the ids after the cursor, then waits for a fence: a transaction id
  taken after the read (shared by every feed of the instance, at most one every 20 ms)
  until the oldest running xid has passed it. Any transaction that could still commit an
  id below the last one read drew that id, and so had its xid, before the read: below the
  fence. Then the rows up to the last id are final and are read again, in id order.
  The oldest running xid is cluster-wide; if it lags (a long transaction, perhaps in
  another database), the transactions of this database are listed once and only those
  below the fence are waited for.
- ``consistent_read`` (the streams' ``snapshot``, a board page) gives a REPEATABLE READ
  snapshot and the id of the last event it reflects, such that it reflects every event up
  to that id and none after, without holding any writer off. It starts from a floor
  known final (``latest_final``: every id up to it has committed or aborted, so any
  snapshot taken later sees all of them) and takes a snapshot; the ids above the floor
  that the snapshot sees end at ``last``. A transaction that could still commit an id up
  to ``last`` drew it before ``last`` committed, so before the snapshot, and had its xid
  before that: a fence taken after the snapshot waits for it. Then the ids committed in
  (floor, last] are read again; if they are the ones the snapshot saw, nothing up to
  ``last`` is missing from it, and nothing after ``last`` is in it (a larger id seen would
  have been ``last``). Otherwise (a writer with a smaller id committed after the snapshot
  was taken) everything up to ``last`` is final now: it is the next floor and a new
  snapshot is taken.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from agentstatus.domain.history_event import HistoryEvent
from agentstatus.storage.database import reading
from agentstatus.storage.history import events_after, ids_after, newest_before, newest_id

_TAKE_FENCE = text("SELECT pg_current_xact_id()::text::bigint")
_OLDEST_RUNNING = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
# Backends' xids (32 bits) are visible to every role, unlike their queries. The list is
# read once per transaction (and costs PostgreSQL a copy of every backend's status), so it
# is the slow path. Only this database's transactions can write its history.
_RUNNING_HERE = text(
    "SELECT coalesce(array_agg(backend_xid::text::bigint), '{}')"
    " FROM pg_stat_get_activity(NULL) WHERE backend_xid IS NOT NULL"
    " AND datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
)

# How long a read waits for older transactions before it gives up for this round (the
# stream asks again on its next wake-up or poll), and how long a consistent snapshot
# tries before it gives up (TimeoutError, answered 503).
SETTLE_SECONDS = 2.0
# How long the cheap wait (on the oldest running xid) lasts before the slow path, and how
# often an instance takes a fence.
CLUSTER_WAIT_SECONDS = 0.2
FENCE_INTERVAL = 0.02


class CommitFence:
    """Waits until every transaction running at the time of the call has ended.

    A fence is a transaction id of its own, so it is newer than every xid assigned before
    it. One fence serves every caller that arrived before it was taken, and fences are
    taken at most every ``FENCE_INTERVAL``: however many streams an instance serves, it
    uses at most 50 xids a second.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._taken_at = float("-inf")
        self._value = 0

    def _fence_after(self, arrival: float) -> int:
        with self._lock:  # callers queue here, then share the fence taken for the first
            if self._taken_at > arrival:
                return self._value
            time.sleep(max(0.0, self._taken_at + FENCE_INTERVAL - time.monotonic()))
            started = time.monotonic()
            with self._engine.begin() as conn:
                value = int(conn.execute(_TAKE_FENCE).scalar_one())
            self._taken_at, self._value = started, value
            return value

    def wait(self) -> bool:
        """True once every transaction running now has ended; False after SETTLE_SECONDS."""
        fence = self._fence_after(time.monotonic())
        deadline = time.monotonic() + SETTLE_SECONDS
        with self._engine.connect() as conn:
            if _poll(
                lambda: int(conn.execute(_OLDEST_RUNNING).scalar_one()) >= fence,
                min(deadline, time.monotonic() + CLUSTER_WAIT_SECONDS),
            ):
                return True
            conn.rollback()
            ours = [_widen(x, fence) for x in conn.execute(_RUNNING_HERE).scalar_one()]
            waiting = [x for x in ours if x < fence]
            conn.rollback()

            def ended() -> bool:
                running = conn.execute(_RUNNING_HERE).scalar_one()
                conn.rollback()  # the list is read once per transaction
                return not set(waiting) & {_widen(x, fence) for x in running}

            return not waiting or _poll(ended, deadline)


def _widen(xid: int, near: int) -> int:
    """A 32-bit xid as the 64-bit one nearest to ``near`` (a recent full xid)."""
    return near + ((xid - near + 2**31) % 2**32) - 2**31


def _poll(done: Callable[[], bool], deadline: float) -> bool:
    pause = 0.001
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


def read_events(
    engine: Engine, fence: CommitFence, org: str, oid: int, after: int, limit: int = 500
) -> list[HistoryEvent]:
    """Up to about ``limit`` events after ``after``, each final: no event with a smaller id
    can appear later."""
    if engine.dialect.name != "postgresql":
        with reading(engine) as conn:
            return events_after(conn, org, oid, after, limit=limit)
    with reading(engine) as conn:
        ids = ids_after(conn, oid, after, limit=limit)
    if not ids or not fence.wait():
        return []
    with reading(engine) as conn:
        return events_after(conn, org, oid, after, upto=ids[-1])


def read_final(
    engine: Engine,
    org: str,
    oid: int,
    after: int,
    upto: int,
    limit: int = 500,
    user_ids: frozenset[str] | None = None,
) -> list[HistoryEvent]:
    """Up to ``limit`` events in ``(after, upto]``, a range already known to be final;
    with ``user_ids``, only those agents' (read by agent, through the history's (org,
    agent, time) index: a panel catching up reads its agent's events, not its
    organisation's)."""
    with reading(engine) as conn:
        return events_after(conn, org, oid, after, upto=upto, limit=limit, user_ids=user_ids)


def resume_floor(engine: Engine, oid: int, before_ms: int) -> int:
    """The id of the organisation's newest event before ``before_ms`` (0 for none): a
    stream that resumes before it is too far behind to be caught up from the history."""
    with reading(engine) as conn:
        return newest_before(conn, oid, before_ms)


def latest_final(engine: Engine, fence: CommitFence, oid: int) -> int:
    """The id of the organisation's newest event, once every event before it is final (a
    feed that starts there misses nothing that commits later)."""
    with reading(engine) as conn:
        last = newest_id(conn, oid)
    if engine.dialect.name == "postgresql" and not fence.wait():
        raise TimeoutError("older transactions did not end in time; try again")
    return last


def _settled_snapshot(engine: Engine, fence: CommitFence, oid: int) -> tuple[Connection, int]:
    """An open REPEATABLE READ transaction whose snapshot reflects exactly the events up
    to the id returned with it (see the module's docstring)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    floor = latest_final(engine, fence, oid)
    while True:
        conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        try:
            conn.begin()
            seen = ids_after(conn, oid, floor)  # the first query: it takes the snapshot
            if not seen:
                return conn, floor
            last = seen[-1]
            if not fence.wait():
                raise TimeoutError("older transactions did not end in time; try again")
            with reading(engine) as now:
                if ids_after(now, oid, floor, last) == seen:
                    return conn, last
        except BaseException:
            conn.close()
            raise
        conn.close()
        floor = last  # every id up to it is final now
        if time.monotonic() >= deadline:
            raise TimeoutError("no consistent snapshot in time; try again")


@contextmanager
def consistent_read(
    engine: Engine, fence: CommitFence, oid: int
) -> Iterator[tuple[Connection, int]]:
    """A connection for reads in one snapshot, and the id of the last event that snapshot
    reflects: every event up to it, none after. Writers are not held off (a table lock
    held for a large organisation's board stalled every tenant's changes). Raises
    TimeoutError when older transactions keep it waiting longer than ``SETTLE_SECONDS``.
    On SQLite one read transaction (a WAL snapshot) is enough: ids are in commit order."""
    if engine.dialect.name != "postgresql":
        with reading(engine) as conn, conn.begin():
            yield conn, newest_id(conn, oid)
        return
    conn, cursor = _settled_snapshot(engine, fence, oid)
    with conn:
        yield conn, cursor
