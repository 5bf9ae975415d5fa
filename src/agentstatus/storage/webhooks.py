"""The webhook endpoints' rows and the record of their deliveries (as the webhook pages
and the API read them; the delivery worker has its own, ``events/delivery.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from agentstatus.storage.schema import webhook_deliveries, webhook_endpoints


def insert_endpoint(
    conn: Connection,
    oid: int,
    url: str,
    secret_enc: str,
    events: str,
    description: str,
    created_ms: int,
    *,
    cloudevents: bool = False,
) -> int:
    """A new enabled endpoint's id."""
    new_id = conn.execute(
        insert(webhook_endpoints).values(
            org_id=oid,
            url=url,
            secret_enc=secret_enc,
            events=events,
            enabled=True,
            description=description,
            created_ms=created_ms,
            cloudevents=cloudevents,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def endpoint_rows(conn: Connection, oid: int) -> list[Row[*tuple[Any, ...]]]:
    """The organisation's endpoints (every column) by id."""
    query = (
        select(webhook_endpoints)
        .where(webhook_endpoints.c.org_id == oid)
        .order_by(webhook_endpoints.c.id)
    )
    return list(conn.execute(query))


def endpoint_exists(conn: Connection, oid: int, endpoint_id: int) -> bool:
    query = select(webhook_endpoints.c.id).where(
        webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.org_id == oid
    )
    return conn.execute(query).first() is not None


def endpoint_row(conn: Connection, endpoint_id: int) -> Row[*tuple[Any, ...]]:
    query = select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    return conn.execute(query).one()


def set_enabled(conn: Connection, endpoint_id: int, enabled: bool) -> None:
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(enabled=enabled)
    )


def delete_endpoint(conn: Connection, endpoint_id: int) -> None:
    """The endpoint and its deliveries, pending ones included."""
    conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id))
    conn.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))


def insert_test_delivery(
    conn: Connection, endpoint_id: int, event_type: str, payload_json: str, at: int
) -> int:
    """A pending delivery of an event of no history row, due at ``at``; its id."""
    new_id = conn.execute(
        insert(webhook_deliveries).values(
            endpoint_id=endpoint_id,
            history_id=None,
            event_type=event_type,
            payload=payload_json,
            state="pending",
            attempts=0,
            next_attempt_ms=at,
            created_ms=at,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def delivery_rows(
    conn: Connection, oid: int, *, endpoint_id: int | None, state: str | None, limit: int
) -> list[Row[*tuple[Any, ...]]]:
    """The organisation's deliveries (every column), newest first."""
    d = webhook_deliveries
    query = (
        select(d)
        .join(webhook_endpoints, webhook_endpoints.c.id == d.c.endpoint_id)
        .where(webhook_endpoints.c.org_id == oid)
    )
    if endpoint_id is not None:
        query = query.where(d.c.endpoint_id == endpoint_id)
    if state is not None:
        query = query.where(d.c.state == state)
    return list(conn.execute(query.order_by(d.c.id.desc()).limit(limit)))


def delivery_counts(conn: Connection, oid: int) -> dict[str, int]:
    """How many of the organisation's deliveries are in each state."""
    d = webhook_deliveries
    rows = conn.execute(
        select(d.c.state, func.count())
        .join(webhook_endpoints, webhook_endpoints.c.id == d.c.endpoint_id)
        .where(webhook_endpoints.c.org_id == oid)
        .group_by(d.c.state)
    ).all()
    return {state: int(count) for state, count in rows}
