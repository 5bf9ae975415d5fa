"""The phone of each extension (``phone_states``), the organisation's phone-offline policy
and its deadlines: one per agent whose phone is unregistered while it takes calls."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.phone_registration import PhoneOffline, PhoneState
from agentstatus.storage.schema import (
    agents,
    deadlines,
    extensions,
    organisations,
    phone_states,
    presence,
    statuses,
)

PHONE_DEADLINE = "phone"
"""The kind of a phone-offline deadline, as stored."""


def states_by_sip(conn: Connection, oid: int) -> dict[str, PhoneState]:
    """The known phone states of the organisation's extensions (the rest: unknown)."""
    rows = conn.execute(
        select(extensions.c.sip, phone_states.c.state)
        .select_from(phone_states.join(extensions, extensions.c.id == phone_states.c.extension_id))
        .where(phone_states.c.org_id == oid)
    ).all()
    return {r.sip: PhoneState(r.state) for r in rows}


def known(conn: Connection, oid: int) -> dict[str, tuple[int, PhoneState]]:
    """Every extension of the organisation: its id and its phone (unknown: no row), in one
    read, so that a phone system's listing of thousands costs one query, not thousands."""
    rows = conn.execute(
        select(extensions.c.sip, extensions.c.id, phone_states.c.state)
        .select_from(
            extensions.outerjoin(phone_states, phone_states.c.extension_id == extensions.c.id)
        )
        .where(extensions.c.org_id == oid)
    ).all()
    return {
        r.sip: (int(r.id), PhoneState(r.state) if r.state else PhoneState.UNKNOWN) for r in rows
    }


def record(
    conn: Connection, oid: int, ext_id: int, now: PhoneState, state: PhoneState, at: int
) -> None:
    """Keep extension ``ext_id``'s phone, which was ``now``, as ``state`` since ``at``."""
    where = phone_states.c.extension_id == ext_id
    if state is PhoneState.UNKNOWN:
        conn.execute(delete(phone_states).where(where))
    elif now is PhoneState.UNKNOWN:
        conn.execute(
            insert(phone_states).values(
                extension_id=ext_id, org_id=oid, state=state.value, since_ms=at
            )
        )
    else:
        conn.execute(update(phone_states).where(where).values(state=state.value, since_ms=at))


@dataclass(frozen=True, slots=True)
class Holder:
    """The agent logged in at an extension, as it is now, and its phone."""

    agent_id: int
    user_id: str
    active: bool
    extension: str
    status: int
    version: int
    available: bool
    phone: PhoneState
    phone_since_ms: int | None


def _holders(conn: Connection, *where: ColumnElement[bool]) -> list[Holder]:
    rows = conn.execute(
        select(
            presence.c.agent_id,
            agents.c.user_id,
            agents.c.active,
            extensions.c.sip,
            presence.c.status,
            presence.c.version,
            statuses.c.available,
            phone_states.c.state,
            phone_states.c.since_ms,
        )
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id)
            .join(extensions, extensions.c.id == presence.c.extension_id)
            .outerjoin(
                statuses,
                (statuses.c.org_id == presence.c.org_id)
                & (statuses.c.status_id == presence.c.status),
            )
            .outerjoin(phone_states, phone_states.c.extension_id == extensions.c.id)
        )
        .where(presence.c.status != LOGOUT, *where)
    ).all()
    return [
        Holder(
            int(r.agent_id),
            r.user_id,
            bool(r.active),
            r.sip,
            int(r.status),
            int(r.version),
            bool(r.available),
            PhoneState(r.state) if r.state else PhoneState.UNKNOWN,
            None if r.since_ms is None else int(r.since_ms),
        )
        for r in rows
    ]


def holder_of(conn: Connection, oid: int, sip: str) -> Holder | None:
    """The agent logged in at extension ``sip``, if any."""
    found = _holders(conn, presence.c.org_id == oid, extensions.c.sip == sip)
    return found[0] if found else None


def holder_agent(conn: Connection, agent_id: int) -> Holder | None:
    """The agent ``agent_id`` where it is now, if logged in at an extension."""
    found = _holders(conn, presence.c.agent_id == agent_id)
    return found[0] if found else None


def holders(conn: Connection, oid: int, user_ids: set[str] | None = None) -> list[Holder]:
    """The organisation's agents logged in at an extension (or only those named)."""
    where = [presence.c.org_id == oid]
    if user_ids is not None:
        where.append(agents.c.user_id.in_(sorted(user_ids)))
    return _holders(conn, *where)


# -- the policy


def policy(conn: Connection, oid: int) -> PhoneOffline | None:
    row = conn.execute(
        select(organisations.c.phone_offline_seconds, organisations.c.phone_offline_status).where(
            organisations.c.id == oid
        )
    ).first()
    if row is None or row.phone_offline_seconds is None or row.phone_offline_status is None:
        return None
    return PhoneOffline(int(row.phone_offline_seconds), int(row.phone_offline_status))


def set_policy(conn: Connection, oid: int, found: PhoneOffline | None) -> None:
    conn.execute(
        update(organisations)
        .where(organisations.c.id == oid)
        .values(
            phone_offline_seconds=None if found is None else found.seconds,
            phone_offline_status=None if found is None else found.status,
        )
    )


def forget_deadlines(conn: Connection, oid: int, agent_ids: list[int] | None = None) -> None:
    """Delete the phone-offline deadlines of the organisation (or of some agents)."""
    where = [deadlines.c.org_id == oid, deadlines.c.kind == PHONE_DEADLINE]
    if agent_ids is not None:
        where.append(deadlines.c.agent_id.in_(agent_ids))
    conn.execute(delete(deadlines).where(*where))


def plan_deadline(conn: Connection, oid: int, holder: Holder, due_ms: int) -> None:
    """One deadline for the agent, at its presence version (a change since cancels it)."""
    forget_deadlines(conn, oid, [holder.agent_id])
    conn.execute(
        insert(deadlines).values(
            org_id=oid,
            agent_id=holder.agent_id,
            kind=PHONE_DEADLINE,
            status=holder.status,
            version=holder.version,
            due_ms=due_ms,
            claimed_until_ms=0,
        )
    )
