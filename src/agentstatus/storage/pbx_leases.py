"""The record of an organisation's phone-system connection (``pbx_connections``), written
only by the instance holding its lease (``holder``)."""

from __future__ import annotations

from sqlalchemy import Engine, update

from agentstatus.domain.clock import now_ms
from agentstatus.storage.schema import pbx_connections


def record(engine: Engine, oid: int, holder: str, **values: object) -> bool:
    """Write ``values`` while ``holder`` holds the lease; False when it does not."""
    with engine.begin() as conn:
        done = conn.execute(
            update(pbx_connections)
            .where(pbx_connections.c.org_id == oid, pbx_connections.c.holder == holder)
            .values(**values)
        )
        return done.rowcount == 1


def count_repairs(engine: Engine, oid: int, holder: str, checked: int, repaired: int) -> None:
    c = pbx_connections.c
    with engine.begin() as conn:
        conn.execute(
            update(pbx_connections)
            .where(c.org_id == oid, c.holder == holder)
            .values(
                reconcile_ms=now_ms(),
                reconcile_checked=checked,
                reconcile_repaired=repaired,
                repaired_total=c.repaired_total + repaired,
            )
        )


def add_commands(engine: Engine, oid: int, holder: str, count: int) -> None:
    c = pbx_connections.c
    with engine.begin() as conn:
        conn.execute(
            update(pbx_connections)
            .where(c.org_id == oid, c.holder == holder)
            .values(commands_total=c.commands_total + count)
        )
