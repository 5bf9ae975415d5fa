"""Wrap-up and the next status in the database: the organisation's setting, the wrap-up an
agent is in, the status it queued as next, and a timed wrap-up's deadline.

The per-agent rows name the presence version they belong to and are read only at that
version: the change path never has to clear them, any change makes them stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.wrap_up import WRAP_UP_KIND, WrapUpMode, WrapUpSetting
from agentstatus.storage.schema import (
    agents,
    deadlines,
    extensions,
    next_statuses,
    pbx_calls,
    presence,
    statuses,
    wrap_up_settings,
    wrap_ups,
)


def _upsert(conn: Connection, table: Table, values: dict[str, object]) -> None:
    """Insert a row keyed by its primary key, or replace the one there."""
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    keys = [c.name for c in table.primary_key.columns]
    statement = make(table).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}
        )
    )


# -- the organisation's setting


def setting_of(conn: Connection, oid: int) -> WrapUpSetting:
    row = conn.execute(select(wrap_up_settings).where(wrap_up_settings.c.org_id == oid)).first()
    if row is None:
        return WrapUpSetting()
    return WrapUpSetting(WrapUpMode(row.mode), row.seconds, int(row.status))


def save_setting(conn: Connection, oid: int, setting: WrapUpSetting) -> None:
    values: dict[str, object] = {
        "org_id": oid,
        "mode": setting.mode.value,
        "seconds": setting.seconds,
        "status": setting.status,
    }
    _upsert(conn, wrap_up_settings, values)


@dataclass(frozen=True, slots=True)
class StatusFacts:
    enabled: bool
    available: bool


def status_facts(conn: Connection, oid: int, sid: int) -> StatusFacts | None:
    row = conn.execute(
        select(statuses.c.enabled, statuses.c.available).where(
            statuses.c.org_id == oid, statuses.c.status_id == sid
        )
    ).first()
    return None if row is None else StatusFacts(bool(row.enabled), bool(row.available))


# -- agents


@dataclass(frozen=True, slots=True)
class AgentNow:
    """An agent's presence as wrap-up and the next status need it."""

    agent_id: int
    user_id: str
    extension: str | None
    status: int
    version: int
    takes_calls: bool


_AGENT = select(
    presence.c.agent_id,
    agents.c.user_id,
    extensions.c.sip,
    presence.c.status,
    presence.c.version,
    statuses.c.available,
).select_from(
    presence.join(agents, agents.c.id == presence.c.agent_id)
    .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
    .outerjoin(
        statuses,
        (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
    )
)


def _agent(conn: Connection, *where: ColumnElement[bool]) -> AgentNow | None:
    row = conn.execute(_AGENT.where(*where)).first()
    if row is None:
        return None
    return AgentNow(
        int(row.agent_id),
        row.user_id,
        row.sip,
        int(row.status),
        int(row.version),
        bool(row.available),
    )


def agent_at(conn: Connection, oid: int, sip: str) -> AgentNow | None:
    """The agent logged in at extension ``sip``."""
    return _agent(
        conn, presence.c.org_id == oid, extensions.c.sip == sip, presence.c.status != LOGOUT
    )


def agent_of(conn: Connection, oid: int, user_id: str) -> AgentNow | None:
    return _agent(conn, agents.c.org_id == oid, agents.c.user_id == user_id)


def calls_at(conn: Connection, oid: int, sip: str, *, answered: bool) -> int:
    """The live calls on extension ``sip`` (only the answered ones with ``answered``)."""
    where = [pbx_calls.c.org_id == oid, pbx_calls.c.extension == sip]
    if answered:
        where.append(pbx_calls.c.answered_ms.is_not(None))
    found = conn.execute(select(func.count()).select_from(pbx_calls).where(*where))
    return int(found.scalar_one())


# -- the wrap-up an agent is in


@dataclass(frozen=True, slots=True)
class WrapUp:
    version: int
    return_status: int
    started_ms: int
    due_ms: int | None


def wrap_up_of(conn: Connection, agent_id: int, version: int) -> WrapUp | None:
    """The agent's wrap-up, if its presence is still at ``version`` (the wrap-up's)."""
    row = conn.execute(
        select(wrap_ups).where(wrap_ups.c.agent_id == agent_id, wrap_ups.c.version == version)
    ).first()
    if row is None:
        return None
    return WrapUp(int(row.version), int(row.return_status), int(row.started_ms), row.due_ms)


def plan_wrap_up(
    conn: Connection,
    oid: int,
    agent_id: int,
    wrap: WrapUp,
    wrap_status: int,
) -> None:
    """Record the wrap-up the agent enters at ``wrap.version`` and, for a timed one, its
    deadline (replacing any earlier one of this agent)."""
    _upsert(
        conn,
        wrap_ups,
        {
            "agent_id": agent_id,
            "org_id": oid,
            "version": wrap.version,
            "return_status": wrap.return_status,
            "started_ms": wrap.started_ms,
            "due_ms": wrap.due_ms,
        },
    )
    conn.execute(
        delete(deadlines).where(deadlines.c.agent_id == agent_id, deadlines.c.kind == WRAP_UP_KIND)
    )
    if wrap.due_ms is not None:
        conn.execute(
            deadlines.insert().values(
                org_id=oid,
                agent_id=agent_id,
                kind=WRAP_UP_KIND,
                status=wrap_status,
                version=wrap.version,
                due_ms=wrap.due_ms,
                claimed_until_ms=0,
            )
        )


def drop_wrap_up(conn: Connection, agent_id: int, version: int) -> None:
    """Forget a wrap-up planned for a version the agent never reached."""
    conn.execute(
        delete(wrap_ups).where(wrap_ups.c.agent_id == agent_id, wrap_ups.c.version == version)
    )
    conn.execute(
        delete(deadlines).where(
            deadlines.c.agent_id == agent_id,
            deadlines.c.kind == WRAP_UP_KIND,
            deadlines.c.version == version,
        )
    )


# -- the status queued as next


@dataclass(frozen=True, slots=True)
class NextStatus:
    status: int
    source: str
    actor: str | None
    at_ms: int


def next_of(conn: Connection, agent_id: int, version: int) -> NextStatus | None:
    """The status the agent queued, if its presence is still at ``version``."""
    row = conn.execute(
        select(next_statuses).where(
            next_statuses.c.agent_id == agent_id, next_statuses.c.version == version
        )
    ).first()
    if row is None:
        return None
    return NextStatus(int(row.status), row.source, row.actor, int(row.at_ms))


def save_next(conn: Connection, oid: int, agent_id: int, version: int, nxt: NextStatus) -> None:
    _upsert(
        conn,
        next_statuses,
        {
            "agent_id": agent_id,
            "org_id": oid,
            "version": version,
            "status": nxt.status,
            "source": nxt.source,
            "actor": nxt.actor,
            "at_ms": nxt.at_ms,
        },
    )


def clear_next(conn: Connection, agent_id: int) -> None:
    conn.execute(delete(next_statuses).where(next_statuses.c.agent_id == agent_id))


def carry_next(conn: Connection, agent_id: int, from_version: int, to_version: int) -> None:
    """Keep the queued status across the change into wrap-up (made at ``to_version``)."""
    conn.execute(
        update(next_statuses)
        .where(next_statuses.c.agent_id == agent_id, next_statuses.c.version == from_version)
        .values(version=to_version)
    )


def next_by_agent(conn: Connection, oid: int) -> dict[str, int]:
    """The organisation's queued statuses still valid, by user id (for the board)."""
    rows = conn.execute(
        select(agents.c.user_id, next_statuses.c.status)
        .select_from(
            next_statuses.join(
                presence,
                (presence.c.agent_id == next_statuses.c.agent_id)
                & (presence.c.version == next_statuses.c.version),
            ).join(agents, agents.c.id == next_statuses.c.agent_id)
        )
        .where(next_statuses.c.org_id == oid)
    ).all()
    return {r.user_id: int(r.status) for r in rows}


def agent_by_id(conn: Connection, agent_id: int) -> AgentNow | None:
    return _agent(conn, presence.c.agent_id == agent_id)


def finish_deadline(conn: Connection, deadline_id: int, due_ms: int) -> None:
    """Delete a wrap-up deadline that was acted on, unless a call's end replaced it
    meanwhile (a row with a new ``due_ms``; SQLite may even reuse the id)."""
    conn.execute(
        delete(deadlines).where(deadlines.c.id == deadline_id, deadlines.c.due_ms == due_ms)
    )
