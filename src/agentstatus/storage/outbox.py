"""What every applied change writes besides its history row, in the same transaction:
one pending webhook delivery per subscribed endpoint; and the channel on which PostgreSQL
instances announce changes to each other after the commit."""

from __future__ import annotations

EVENTS_CHANNEL = "agentstatus_events"

# The SQLite engine's; the PostgreSQL engine writes its outbox rows inside its one
# statement (storage.postgres_status.WRITE).
SQLITE_ENQUEUE = """
INSERT INTO webhook_deliveries (endpoint_id, history_id, event_type, state, attempts,
                                next_attempt_ms, created_ms)
SELECT w.id, ?1, ?2, 'pending', 0, ?3, ?3
FROM webhook_endpoints w
WHERE w.org_id = ?4 AND w.enabled
  AND (w.events = '*' OR instr(',' || w.events || ',', ',' || ?2 || ',') > 0)
"""
