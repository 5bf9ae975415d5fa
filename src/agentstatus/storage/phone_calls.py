"""The live calls of an organisation's extensions (``pbx_calls``), as the instance holding
the phone-system connection keeps them, and the agent a call's event is about."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from agentstatus.domain.calls import Call, CallChange, CallState, Direction
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.storage.schema import agents, extensions, pbx_calls, presence


def _row(oid: int, call: Call) -> dict[str, object]:
    return {
        "org_id": oid,
        "call_id": call.id[:64],
        "extension": call.extension,
        "direction": call.direction.value,
        "state": call.state.value,
        "caller_name": call.caller_name[:128],
        "caller_number": call.caller_number[:64],
        "dialled": call.dialled[:64],
        "started_ms": call.started_ms,
        "answered_ms": call.answered_ms,
    }


def keep(conn: Connection, oid: int, change: CallChange, call: Call) -> None:
    """Keep one call as a change leaves it: started (anew), changed, or ended (gone)."""
    where = (pbx_calls.c.org_id == oid) & (pbx_calls.c.call_id == call.id[:64])
    if change is CallChange.STARTED:
        conn.execute(delete(pbx_calls).where(where))
        conn.execute(insert(pbx_calls).values(**_row(oid, call)))
    elif change is CallChange.ENDED:
        conn.execute(delete(pbx_calls).where(where))
    else:
        conn.execute(update(pbx_calls).where(where).values(**_row(oid, call)))


def clear(conn: Connection, oid: int) -> None:
    conn.execute(delete(pbx_calls).where(pbx_calls.c.org_id == oid))


def by_extension(conn: Connection, oid: int) -> dict[str, list[Call]]:
    """The organisation's live calls by extension, oldest first."""
    rows = conn.execute(
        select(pbx_calls).where(pbx_calls.c.org_id == oid).order_by(pbx_calls.c.started_ms)
    ).all()
    found: dict[str, list[Call]] = {}
    for r in rows:
        found.setdefault(r.extension, []).append(
            Call(
                r.call_id,
                r.extension,
                Direction(r.direction),
                CallState(r.state),
                r.caller_name,
                r.caller_number,
                r.dialled,
                int(r.started_ms),
                r.answered_ms,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class AgentOnCall:
    agent_id: int
    user_id: str
    status: int


def agent_on_call(conn: Connection, oid: int, sip: str) -> AgentOnCall | None:
    """The agent logged in at extension ``sip``, its presence row locked until the caller's
    transaction ends (its status stays as read while the call's event is appended)."""
    found = conn.execute(
        select(presence.c.agent_id, presence.c.status, agents.c.user_id)
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id).join(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(presence.c.org_id == oid, extensions.c.sip == sip, presence.c.status != LOGOUT)
        .with_for_update(of=presence)
    ).first()
    if found is None:
        return None
    return AgentOnCall(int(found.agent_id), found.user_id, int(found.status))
