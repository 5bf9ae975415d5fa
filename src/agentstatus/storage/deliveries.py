"""The webhook outbox as its deliverer sees it: what is due, claimed with a lease (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises claims with its write lock), and
each attempt's outcome. The rows themselves are written with their event
(``storage.event_log``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from agentstatus.domain.history_event import HistoryEvent
from agentstatus.storage.database import reading
from agentstatus.storage.history import event_of
from agentstatus.storage.schema import history, organisations, webhook_deliveries, webhook_endpoints


@dataclass(frozen=True, slots=True)
class Lease:
    """How to claim: until when, how many, how many of one endpoint, none of ``busy``
    (endpoints with attempts in flight), only delivery ``only`` if given."""

    now_ms: int
    until_ms: int
    batch: int
    per_endpoint: int
    busy: frozenset[int] = frozenset()
    only: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    endpoint_id: int
    url: str
    secret_enc: str
    event_type: str
    payload: str | None
    """The body of a test event (which has no history row)."""
    attempts: int
    created_ms: int
    event: HistoryEvent | None
    cloudevents: bool = False
    """The endpoint wants CloudEvents 1.0 structured envelopes."""


def _due(lease: Lease) -> list[ColumnElement[bool]]:
    d = webhook_deliveries
    where = [d.c.state == "pending", d.c.next_attempt_ms <= lease.now_ms]
    if lease.busy:
        where.append(d.c.endpoint_id.not_in(lease.busy))
    if lease.only is not None:
        where.append(d.c.id == lease.only)
    return where


def _due_exists(engine: Engine, lease: Lease) -> bool:
    d = webhook_deliveries
    with reading(engine) as conn:
        return conn.execute(select(d.c.id).where(*_due(lease)).limit(1)).first() is not None


def _pick(conn: Connection, lease: Lease) -> list[int]:
    """The ids to take, oldest first, within the batch and the per-endpoint share. Rows
    looked at but not taken stay locked only until the transaction ends."""
    d = webhook_deliveries
    candidates = conn.execute(
        select(d.c.id, d.c.endpoint_id)
        .where(*_due(lease))
        .order_by(d.c.next_attempt_ms, d.c.id)
        .limit(lease.batch * 4)
        .with_for_update(skip_locked=True)
    ).all()
    taken: dict[int, int] = {}
    ids: list[int] = []
    for row in candidates:
        if taken.get(row.endpoint_id, 0) < lease.per_endpoint:
            taken[row.endpoint_id] = taken.get(row.endpoint_id, 0) + 1
            ids.append(row.id)
            if len(ids) == lease.batch:
                break
    return ids


def _claimed(conn: Connection, ids: list[int]) -> list[ClaimedDelivery]:
    d, w = webhook_deliveries, webhook_endpoints
    rows = conn.execute(
        select(
            d.c.id,
            d.c.endpoint_id,
            d.c.event_type,
            d.c.payload,
            d.c.attempts,
            d.c.created_ms,
            d.c.history_id,
            w.c.url,
            w.c.secret_enc,
            w.c.cloudevents,
            organisations.c.name,
        )
        .join(w, w.c.id == d.c.endpoint_id)
        .join(organisations, organisations.c.id == w.c.org_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.id)
    ).all()
    wanted = {r.history_id: r.name for r in rows if r.history_id is not None}
    events = {
        e.id: e
        for e in (
            event_of(wanted[h.id], h)
            for h in conn.execute(select(history).where(history.c.id.in_(list(wanted))))
        )
    }
    return [
        ClaimedDelivery(
            r.id,
            r.endpoint_id,
            r.url,
            r.secret_enc,
            r.event_type,
            r.payload,
            r.attempts,
            r.created_ms,
            None if r.history_id is None else events[r.history_id],
            bool(r.cloudevents),
        )
        for r in rows
    ]


def claim(engine: Engine, lease: Lease) -> list[ClaimedDelivery]:
    """Lease what is due (see :class:`Lease`), counting an attempt for each."""
    if not _due_exists(engine, lease):
        return []
    d = webhook_deliveries
    with engine.begin() as conn:
        ids = _pick(conn, lease)
        if not ids:
            return []
        conn.execute(
            update(d)
            .where(d.c.id.in_(ids))
            .values(next_attempt_ms=lease.until_ms, attempts=d.c.attempts + 1)
        )
        return _claimed(conn, ids)


def record(engine: Engine, delivery_id: int, **values: object) -> None:
    """An attempt's outcome: its status code and error, and the new state or next try."""
    with engine.begin() as conn:
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(**values)
        )
