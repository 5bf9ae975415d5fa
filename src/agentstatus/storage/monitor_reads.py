"""What Voicenter's real-time monitor (``events.monitor``) reads of an organisation when
its first monitor socket opens: its extensions, its agents and where each is now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from agentstatus.storage.schema import agents, extensions, presence


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    id: int
    sip: str
    name: str


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: int
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class PresenceRow:
    """An agent at an extension (logged-out agents hold none and are not listed)."""

    user_id: str
    sip: str
    status: int
    since_ms: int


def extension_rows(conn: Connection, oid: int) -> list[ExtensionRow]:
    rows = conn.execute(
        select(extensions.c.id, extensions.c.sip, extensions.c.name)
        .where(extensions.c.org_id == oid)
        .order_by(extensions.c.sip)
    )
    return [ExtensionRow(int(r.id), r.sip, r.name) for r in rows]


def agent_rows(conn: Connection, oid: int) -> list[AgentRow]:
    rows = conn.execute(
        select(agents.c.id, agents.c.user_id, agents.c.name).where(agents.c.org_id == oid)
    )
    return [AgentRow(int(r.id), r.user_id, r.name) for r in rows]


def held_rows(conn: Connection, oid: int) -> list[PresenceRow]:
    rows = conn.execute(
        select(agents.c.user_id, extensions.c.sip, presence.c.status, presence.c.since_ms)
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id).join(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(presence.c.org_id == oid)
    )
    return [PresenceRow(r.user_id, r.sip, int(r.status), int(r.since_ms)) for r in rows]
