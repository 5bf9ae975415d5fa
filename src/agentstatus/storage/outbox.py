"""What every applied change writes besides its history row, in the same transaction:
one pending webhook delivery per subscribed endpoint, and (PostgreSQL) a NOTIFY."""

from __future__ import annotations

from sqlalchemy import Connection, text

EVENTS_CHANNEL = "agentstatus_events"

_ENQUEUE = text(
    """
    INSERT INTO webhook_deliveries (endpoint_id, history_id, event_type, state, attempts,
                                    next_attempt_ms, created_ms)
    SELECT w.id, :history_id, CAST(:event_type AS VARCHAR), 'pending', 0, :at, :at
    FROM webhook_endpoints w
    WHERE w.org_id = :org_id AND w.enabled
      AND (w.events = '*'
           OR (',' || w.events || ',') LIKE ('%,' || CAST(:event_type AS VARCHAR) || ',%'))
    """
)

# The same for the SQLite hot path, which speaks to sqlite3 directly.
SQLITE_ENQUEUE = """
INSERT INTO webhook_deliveries (endpoint_id, history_id, event_type, state, attempts,
                                next_attempt_ms, created_ms)
SELECT w.id, ?1, ?2, 'pending', 0, ?3, ?3
FROM webhook_endpoints w
WHERE w.org_id = ?4 AND w.enabled
  AND (w.events = '*' OR instr(',' || w.events || ',', ',' || ?2 || ',') > 0)
"""


def record_side_effects(
    conn: Connection, org_id: int, history_id: int, event_type: str, at_ms: int
) -> None:
    conn.execute(
        _ENQUEUE,
        {"history_id": history_id, "event_type": event_type, "at": at_ms, "org_id": org_id},
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": EVENTS_CHANNEL, "payload": str(org_id)},
        )
