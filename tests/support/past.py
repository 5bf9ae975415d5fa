"""A known past for an agent: its creation moved back and history rows at chosen
instants, as the change path would have written them then (the change path itself
always writes "now", so a past day cannot be made through it)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.event_types import change_kind
from agentstatus.service.organisations import org_id
from agentstatus.storage.schema import agents, extensions, history, presence


def write_past(
    engine: Engine,
    org: str,
    user_id: str,
    created_ms: int,
    changes: Sequence[tuple[int, int, str | None]],
    others: Sequence[tuple[int, dict[str, object]]] = (),
) -> None:
    """The agent exists since ``created_ms`` (logged out) and made ``changes``, each
    ``(at_ms, new_status, new_extension)``, oldest first; its presence is the last one.
    ``others``: rows that change nothing (a call's event, a limit's warning), each
    ``(at_ms, columns)`` with the columns beyond the agent, the instant and the statuses
    (which are the agent's then), written among the changes in the order of time."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        agent_id = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user_id)
        ).scalar_one()
        conn.execute(update(agents).where(agents.c.id == agent_id).values(created_ms=created_ms))
        # The presence row first: on PostgreSQL a writer of history takes its transaction
        # id before it draws a history id (the event stream's commit-order guard).
        last_status, last_extension = (
            (changes[-1][1], changes[-1][2]) if changes else (LOGOUT, None)
        )
        ext_id = None
        if last_extension is not None:
            ext_id = conn.execute(
                select(extensions.c.id).where(
                    extensions.c.org_id == oid, extensions.c.sip == last_extension
                )
            ).scalar_one()
        conn.execute(
            update(presence)
            .where(presence.c.agent_id == agent_id)
            .values(
                status=last_status,
                extension_id=ext_id,
                since_ms=changes[-1][0] if changes else created_ms,
                version=presence.c.version + 1,
            )
        )
        status, extension = LOGOUT, None
        pending = sorted(others, key=lambda other: other[0])
        for at_ms, new_status, new_extension in [*changes, (None, None, None)]:
            while pending and (at_ms is None or pending[0][0] < at_ms):
                other_ms, columns = pending.pop(0)
                conn.execute(
                    insert(history).values(
                        org_id=oid,
                        agent_id=agent_id,
                        user_id=user_id,
                        prev_extension=extension,
                        new_extension=extension,
                        prev_status=status,
                        new_status=status,
                        at_ms=other_ms,
                        **columns,
                    )
                )
            if at_ms is None:
                break
            conn.execute(
                insert(history).values(
                    org_id=oid,
                    agent_id=agent_id,
                    user_id=user_id,
                    prev_extension=extension,
                    new_extension=new_extension,
                    prev_status=status,
                    new_status=new_status,
                    at_ms=at_ms,
                    source="GET",
                    client_addr="127.0.0.1",
                    kind=change_kind(status, new_status),
                )
            )
            status, extension = new_status, new_extension
