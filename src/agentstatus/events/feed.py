"""Reading events from the durable history, in commit order, after a cursor.

On SQLite one writer commits at a time, so id order is commit order. On PostgreSQL ids
are handed out at insert time, so a row may commit after a row with a larger id; a row is
passed only once every transaction that could still add a smaller id has ended (its
``horizon_xid`` is at or below the oldest running transaction id).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text

from agentstatus.events.model import Event
from agentstatus.service.organisations import org_id as lookup_org_id
from agentstatus.service.presence import AgentPresence, list_presence_rows
from agentstatus.storage.database import reading
from agentstatus.storage.schema import history

_XMIN = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


@dataclass(frozen=True, slots=True)
class Snapshot:
    cursor: int
    agents: list[AgentPresence]


def _oldest_running(conn: Connection) -> int | None:
    if conn.dialect.name != "postgresql":
        return None
    return int(conn.execute(select(_XMIN)).scalar_one())


def read_events(engine: Engine, org: str, oid: int, after: int, limit: int = 500) -> list[Event]:
    with reading(engine) as conn:
        rows = conn.execute(
            select(history)
            .where(history.c.org_id == oid, history.c.id > after)
            .order_by(history.c.id)
            .limit(limit)
        ).all()
        xmin = _oldest_running(conn) if rows else None
    events: list[Event] = []
    for r in rows:
        if xmin is not None and r.horizon_xid is not None and r.horizon_xid > xmin:
            break  # an older transaction may still commit a smaller id: wait for it
        events.append(
            Event(
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
        )
    return events


def snapshot(engine: Engine, org: str, attempts: int = 50) -> tuple[int, Snapshot]:
    """Every agent's presence and the id of the last event it reflects, read together."""
    for _ in range(attempts):
        with reading(engine) as conn:
            if conn.dialect.name == "postgresql":
                # One snapshot for the presence rows and the cursor.
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            oid = lookup_org_id(conn, org)
            last = conn.execute(
                select(history.c.id, history.c.horizon_xid)
                .where(history.c.org_id == oid)
                .order_by(history.c.id.desc())
                .limit(1)
            ).first()
            xmin = _oldest_running(conn)
            unsettled = (
                last is not None
                and xmin is not None
                and last.horizon_xid is not None
                and last.horizon_xid > xmin
            )
            if unsettled:
                continue  # a smaller id may still commit; read again in a moment
            agents = list_presence_rows(conn, oid)
            return oid, Snapshot(0 if last is None else int(last.id), agents)
    raise TimeoutError("the history did not settle; try again")
