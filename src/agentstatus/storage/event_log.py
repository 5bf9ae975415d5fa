"""The one way into the history (the event log): an event's row with its kind, in the
order the event streams depend on, and its outbox rows, in the writer's transaction.

Every writer appends here, in whatever form its engine takes: the SQLite status engine
(a raw connection, :func:`append_sqlite`), the PostgreSQL status engine (one statement,
:func:`postgres_append`), and everything else through SQLAlchemy (:func:`append_event`:
a limit's warning, a call's event). The wake-up follows the commit and is the writer's:
its ``Announce``, or the status path's ``after_commit``.

**The ordering rule.** On PostgreSQL a history id is drawn at insert time, so a row may
commit after a row with a larger id. The event streams' commit-order guard
(``storage.history_reads``) waits for every transaction older than a fence, which is only
enough if each writer has its transaction id *before* it draws a history id. So on
PostgreSQL every append takes its transaction id first: :func:`append_event` asks for it
(``pg_current_xact_id()``), :func:`postgres_append` inserts from the presence update that
gave the statement its transaction id. On SQLite one writer commits at a time and id order
is commit order.

**The outbox.** One pending webhook delivery per enabled endpoint of the organisation that
subscribes to the event's kind (or to everything). The phone-system links need no rows:
they follow the history itself (``events.feed.read_events``).
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from sqlalchemy import Connection, insert, text

from agentstatus.storage.schema import history


class NewEvent(NamedTuple):
    """An event to append: one history row, its values in the history's column order.

    A named tuple, not a dataclass: the SQLite writer thread, which every change waits
    for, passes it as the insert's parameters as it is. A frozen dataclass's construction
    and ``astuple`` cost that thread more than the history insert itself (issue 22's
    bench: the change path 20 % slower than before the event log)."""

    org_id: int
    agent_id: int | None
    """None for an event of no agent's (a queue's caller; its ``user_id`` is "")."""
    user_id: str
    prev_extension: str | None
    new_extension: str | None
    prev_status: int
    new_status: int
    at_ms: int
    source: str
    kind: str
    client_addr: str | None = None
    policy: str | None = None
    due_ms: int | None = None
    call: str | None = None
    reason: str | None = None
    actor: str | None = None
    detail: str | None = None
    """JSON, by kind (see ``storage.schema.history``)."""


def standing(
    *,
    org_id: int,
    agent_id: int,
    user_id: str,
    extension: str | None,
    status: int,
    at_ms: int,
    source: str,
    kind: str,
    **more: str | int | None,
) -> NewEvent:
    """An event that leaves the agent where it was (a warning, a call's event, a missed
    call, a next status, a phone's state): its previous and new extension and status are
    the same. ``more``: the rest of :class:`NewEvent`'s fields."""
    return NewEvent(
        org_id=org_id,
        agent_id=agent_id,
        user_id=user_id,
        prev_extension=extension,
        new_extension=extension,
        prev_status=status,
        new_status=status,
        at_ms=at_ms,
        source=source,
        kind=kind,
        **more,  # type: ignore[arg-type]
    )


_COLUMNS = NewEvent._fields
_COLUMN_LIST = ", ".join(_COLUMNS)

# The outbox rows of one event, for each engine's parameters and string search.
_OUTBOX = """
INSERT INTO webhook_deliveries (endpoint_id, history_id, event_type, state, attempts,
                                next_attempt_ms, created_ms)
SELECT w.id, {history}, {kind}, 'pending', 0, {at}, {at}
FROM webhook_endpoints w{also}
WHERE w.org_id = {org} AND w.enabled
  AND (w.events = '*' OR {find}(',' || w.events || ',', ',' || {kind} || ',') > 0)
"""
_SQLITE_INSERT = f"INSERT INTO history ({_COLUMN_LIST}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
_SQLITE_OUTBOX = _OUTBOX.format(history="?1", kind="?2", at="?3", org="?4", also="", find="instr")
_POSTGRES_OUTBOX = _OUTBOX.format(
    history="%(history)s",
    kind="%(kind)s::text",
    at="%(at)s",
    org="%(org)s",
    also="",
    find="strpos",
)
_CASTS = {"due_ms": "::bigint"}
_POSTGRES_NAMES = tuple(f"ev_{name}" for name in _COLUMNS)
_TAKE_TRANSACTION_ID = text("SELECT pg_current_xact_id()")


def append_sqlite(conn: sqlite3.Connection, event: NewEvent) -> int:
    """Append on the SQLite status engine's own connection, inside its transaction."""
    cur = conn.execute(_SQLITE_INSERT, event)
    history_id = cur.lastrowid
    assert history_id is not None
    conn.execute(_SQLITE_OUTBOX, (history_id, event.kind, event.at_ms, event.org_id))
    return history_id


def postgres_append(after: str) -> str:
    """The common table expressions ``event`` (the history row, whose id it returns) and
    ``outbox`` of the PostgreSQL status engine's one statement, inserted only for the
    row of ``after``: the expression that gave the statement its transaction id (the
    ordering rule). Their parameters are :func:`postgres_parameters`."""
    # An untyped NULL would be text, which the bigint column does not take.
    values = ", ".join(f"%(ev_{name})s{_CASTS.get(name, '')}" for name in _COLUMNS)
    outbox = _OUTBOX.format(
        history="event.id",
        kind="%(ev_kind)s::text",
        at="%(ev_at_ms)s",
        org="%(ev_org_id)s",
        also=", event",
        find="strpos",
    )
    return (
        f"event AS (\n    INSERT INTO history ({_COLUMN_LIST})\n"
        f"    SELECT {values}\n"
        f"    FROM {after}\n    RETURNING id\n), outbox AS ({outbox})"
    )


def postgres_parameters(event: NewEvent) -> dict[str, object]:
    return dict(zip(_POSTGRES_NAMES, event, strict=True))


def append_event(conn: Connection, event: NewEvent) -> int:
    """Append in the caller's transaction (SQLAlchemy, either engine); the history id."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(_TAKE_TRANSACTION_ID)  # the ordering rule (see the module's docstring)
    row = event._asdict()
    inserted = conn.execute(insert(history).values(**row).returning(history.c.id)).scalar_one()
    history_id = int(inserted)
    if postgres:
        conn.exec_driver_sql(
            _POSTGRES_OUTBOX,
            {"history": history_id, "kind": event.kind, "at": event.at_ms, "org": event.org_id},
        )
    else:
        conn.exec_driver_sql(_SQLITE_OUTBOX, (history_id, event.kind, event.at_ms, event.org_id))
    return history_id
