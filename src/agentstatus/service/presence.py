"""Presence: who holds which extension in which status, and admin logouts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import event_type
from agentstatus.service.errors import NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage.outbox import record_side_effects
from agentstatus.storage.schema import agents, extensions, history, presence, statuses


@dataclass(frozen=True, slots=True)
class AgentPresence:
    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str | None
    since_ms: int

    def as_json(self) -> dict[str, object]:
        """The shape of ``presence --json`` and ``GET /api/v1/orgs/{org}/presence``."""
        return {
            "user_id": self.user_id,
            "name": self.name,
            "extension": self.extension,
            "status": self.status,
            "status_name": self.status_name,
            "since": to_iso(self.since_ms),
        }


_PRESENCE_QUERY = (
    select(
        agents.c.user_id,
        agents.c.name,
        extensions.c.sip,
        presence.c.status,
        statuses.c.name.label("status_name"),
        presence.c.since_ms,
    )
    .select_from(
        agents.join(presence, presence.c.agent_id == agents.c.id)
        .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
        .outerjoin(
            statuses,
            (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
        )
    )
    .order_by(agents.c.user_id)
)


def list_presence_rows(conn: Connection, oid: int) -> list[AgentPresence]:
    """Every active agent's presence, on the caller's connection (and snapshot)."""
    rows = conn.execute(_PRESENCE_QUERY.where(agents.c.org_id == oid, agents.c.active))
    return [
        AgentPresence(r.user_id, r.name, r.sip, r.status, r.status_name, r.since_ms) for r in rows
    ]


def list_presence(engine: Engine, org: str) -> list[AgentPresence]:
    with engine.connect() as conn:
        return list_presence_rows(conn, org_id(conn, org))


def logout_agents(
    conn: Connection, oid: int, agent_ids: list[int] | None, source: Source, at: int
) -> int:
    """Log out the given agents (all of the organisation's when None) inside the caller's
    transaction, recording one history event each. Returns how many were logged in."""
    query = (
        select(presence.c.agent_id, agents.c.user_id, extensions.c.sip, presence.c.status)
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id).outerjoin(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(presence.c.org_id == oid)
        .where((presence.c.extension_id.is_not(None)) | (presence.c.status != LOGOUT))
    )
    if agent_ids is not None:
        query = query.where(presence.c.agent_id.in_(agent_ids))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=presence)
    rows = conn.execute(query).all()
    for row in rows:
        conn.execute(
            update(presence)
            .where(presence.c.agent_id == row.agent_id)
            .values(extension_id=None, status=LOGOUT, since_ms=at)
        )
        history_id = conn.execute(
            insert(history)
            .values(
                org_id=oid,
                agent_id=row.agent_id,
                user_id=row.user_id,
                prev_extension=row.sip,
                new_extension=None,
                prev_status=row.status,
                new_status=LOGOUT,
                at_ms=at,
                source=source.value,
                client_addr=None,
            )
            .returning(history.c.id)
        ).scalar_one()
        record_side_effects(conn, oid, history_id, event_type(row.status, LOGOUT), at)
    return len(rows)


def agent_row_id(conn: Connection, oid: int, user_id: str) -> int:
    found = conn.execute(
        select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user_id)
    ).first()
    if found is None:
        raise NotFound(f"no agent {user_id!r} in this organisation")
    return int(found.id)


def force_logout(engine: Engine, org: str, user_id: str) -> bool:
    """Log one agent out (source ``admin``); False when it was already logged out."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        return (
            logout_agents(conn, oid, [agent_row_id(conn, oid, user_id)], Source.ADMIN, now_ms()) > 0
        )


def logout_everyone(engine: Engine, org: str) -> int:
    with engine.begin() as conn:
        return logout_agents(conn, org_id(conn, org), None, Source.ADMIN, now_ms())
