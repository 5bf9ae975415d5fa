"""The queue members agentstatus made at an organisation's Asterisk (``pbx_members``), so
that when its settings change the members made under the old ones are removed, and only
those."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from agentstatus.domain.clock import now_ms
from agentstatus.storage.schema import pbx_members


def owned_members(engine: Engine, oid: int, endpoint: str) -> set[tuple[str, str]]:
    """(queue, interface) of the members made at ``endpoint``. Those recorded at another
    phone system (the host changed) are forgotten: they can no longer be reached."""
    m = pbx_members.c
    with engine.begin() as conn:
        conn.execute(delete(pbx_members).where(m.org_id == oid, m.endpoint != endpoint))
        rows = conn.execute(select(m.queue, m.interface).where(m.org_id == oid)).all()
    return {(r.queue, r.interface) for r in rows}


def keep_owned(
    engine: Engine, oid: int, endpoint: str, changes: list[tuple[bool, str, str]]
) -> None:
    """Record members made (True) and removed (False), in the order they happened."""
    m = pbx_members.c
    at = now_ms()
    with engine.begin() as conn:
        for made, queue, interface in changes:
            where = (m.org_id == oid) & (m.queue == queue) & (m.interface == interface)
            conn.execute(delete(pbx_members).where(where))
            if made:
                conn.execute(
                    insert(pbx_members).values(
                        org_id=oid,
                        queue=queue[:80],
                        interface=interface[:256],
                        endpoint=endpoint[:300],
                        made_ms=at,
                    )
                )
