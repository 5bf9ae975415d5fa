"""Reading events from the durable history, in commit order, after a cursor.

On SQLite one writer commits at a time, so id order is commit order. On PostgreSQL ids
are drawn at insert time, so a row may commit after a row with a larger id, and an event
stream that passed the larger one would never send the smaller. Every writer takes its
transaction id before it draws a history id (its presence update or row lock comes
first), which gives the guard both readers rely on:

- ``read_events`` reads the ids after the cursor, then lists the transactions running
  (every backend's xid; listing allocates none) and waits until those have ended. Any
  transaction that could still commit an id below the last one read drew that id, and so
  had its xid, before the read: it is on the list. Then the rows up to the last id are
  final and are read again, in full, in id order.
- ``snapshot`` locks the presence table in SHARE mode, which waits for every transaction
  that has written presence (and so may hold a history id) to end and holds new writers
  off for the few milliseconds of the read; the presence rows and the last id are then
  read from one snapshot with nothing in flight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, select, text

from agentstatus.events.model import Event
from agentstatus.service.organisations import org_id as lookup_org_id
from agentstatus.service.presence import AgentPresence, list_presence_rows
from agentstatus.storage.database import reading
from agentstatus.storage.schema import history

# Backends' xids are visible to every role (unlike their queries). The list is read once
# per transaction, hence one transaction per look. Only this database's transactions can
# write its history, so a long one in another database of the cluster delays nothing.
_RUNNING = text(
    "SELECT coalesce(array_agg(backend_xid::text::bigint), '{}')"
    " FROM pg_stat_get_activity(NULL) WHERE backend_xid IS NOT NULL"
    " AND datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_STILL_RUNNING = text(
    "SELECT count(*) FROM pg_stat_get_activity(NULL) WHERE backend_xid::text::bigint = ANY(:xids)"
)

# How long a read waits for older transactions before it gives up for this round (the
# stream asks again on its next wake-up or poll) and how long a snapshot waits for the lock.
SETTLE_SECONDS = 2.0
SNAPSHOT_LOCK_TIMEOUT = "2s"


@dataclass(frozen=True, slots=True)
class Snapshot:
    cursor: int
    agents: list[AgentPresence]


def _event(org: str, r: Row[tuple[object, ...]]) -> Event:
    return Event(
        r.id,
        org,
        r.user_id,
        r.prev_extension,
        r.new_extension,
        r.prev_status,
        r.new_status,
        r.at_ms,
        r.source,
    )


def read_events(engine: Engine, org: str, oid: int, after: int, limit: int = 500) -> list[Event]:
    """Up to about ``limit`` events after ``after``, each final: no event with a smaller id
    can appear later."""
    if engine.dialect.name != "postgresql":
        with reading(engine) as conn:
            rows = conn.execute(
                select(history)
                .where(history.c.org_id == oid, history.c.id > after)
                .order_by(history.c.id)
                .limit(limit)
            )
            return [_event(org, r) for r in rows]
    with reading(engine) as conn:
        ids = (
            conn.execute(
                select(history.c.id)
                .where(history.c.org_id == oid, history.c.id > after)
                .order_by(history.c.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        last = ids[-1] if ids else None
        if last is None:
            return []
        conn.rollback()
        if not _settle(conn):
            return []
        final = conn.execute(
            select(history)
            .where(history.c.org_id == oid, history.c.id > after, history.c.id <= last)
            .order_by(history.c.id)
        )
        return [_event(org, r) for r in final]


def _settle(conn: Connection) -> bool:
    """Wait until every transaction running now has ended (False after SETTLE_SECONDS)."""
    running = list(conn.execute(_RUNNING).scalar_one())
    conn.rollback()
    deadline = time.monotonic() + SETTLE_SECONDS
    pause = 0.001
    while running:
        if int(conn.execute(_STILL_RUNNING, {"xids": running}).scalar_one()) == 0:
            break
        conn.rollback()
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    conn.rollback()
    return True


def snapshot(engine: Engine, org: str) -> tuple[int, Snapshot]:
    """Every agent's presence and the id of the last event it reflects, read together."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Both statements come before the first query, which takes the snapshot.
            # Past the timeout the lock error (an OperationalError) is answered 503.
            conn.execute(text(f"SET LOCAL lock_timeout = '{SNAPSHOT_LOCK_TIMEOUT}'"))
            conn.execute(text("LOCK TABLE presence IN SHARE MODE"))
        oid = lookup_org_id(conn, org)
        last = conn.execute(
            select(history.c.id)
            .where(history.c.org_id == oid)
            .order_by(history.c.id.desc())
            .limit(1)
        ).scalar()
        agents = list_presence_rows(conn, oid)
    return oid, Snapshot(0 if last is None else int(last), agents)
