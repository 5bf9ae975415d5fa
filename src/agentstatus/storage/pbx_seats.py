"""Presence as the phone-system links read it: who is at which extension, in which status
(and whether it takes calls), and the statuses a pause at the phone may name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, Select, select

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, extensions, presence, statuses


@dataclass(frozen=True, slots=True)
class AgentSeat:
    """One agent's presence, as the seats need it."""

    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str
    available: bool


@dataclass(frozen=True, slots=True)
class AtExtension:
    user_id: str
    status: int
    available: bool


_SEATED = select(
    agents.c.user_id,
    agents.c.name,
    extensions.c.sip,
    presence.c.status,
    statuses.c.name.label("status_name"),
    statuses.c.available,
).select_from(
    presence.join(agents, agents.c.id == presence.c.agent_id)
    .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
    .outerjoin(
        statuses,
        (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
    )
)


def _seats(rows: Iterable[Row[Any]]) -> list[AgentSeat]:
    return [
        AgentSeat(
            r.user_id,
            r.name,
            r.sip,
            int(r.status),
            r.status_name or "",
            bool(r.available) or r.status == LOGIN,
        )
        for r in rows
    ]


def _read(engine: Engine, query: Select[Any]) -> list[AgentSeat]:
    with reading(engine) as conn:
        return _seats(conn.execute(query))


def org_extensions(engine: Engine, oid: int) -> frozenset[str]:
    with reading(engine) as conn:
        return frozenset(
            conn.execute(select(extensions.c.sip).where(extensions.c.org_id == oid)).scalars()
        )


def everyone(engine: Engine, oid: int) -> tuple[list[str], list[AgentSeat]]:
    """Every extension of the organisation and every agent's seat, read together."""
    with reading(engine) as conn:
        sips = conn.execute(select(extensions.c.sip).where(extensions.c.org_id == oid)).scalars()
        return list(sips), _seats(conn.execute(_SEATED.where(presence.c.org_id == oid)))


def at_extensions(engine: Engine, oid: int, sips: set[str]) -> list[AgentSeat]:
    """The agents logged in at these extensions."""
    return _read(
        engine,
        _SEATED.where(
            presence.c.org_id == oid, extensions.c.sip.in_(sips), presence.c.status != LOGOUT
        ),
    )


def of_agents(engine: Engine, oid: int, user_ids: set[str]) -> list[AgentSeat]:
    return _read(engine, _SEATED.where(presence.c.org_id == oid, agents.c.user_id.in_(user_ids)))


def pause_names(engine: Engine, oid: int) -> dict[str, int]:
    """The statuses a pause reason may name: enabled, taking no calls, not Logout."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(statuses.c.status_id, statuses.c.name).where(
                statuses.c.org_id == oid,
                statuses.c.enabled,
                statuses.c.available.is_(False),
                statuses.c.status_id != LOGOUT,
            )
        ).all()
    return {r.name.strip().casefold(): int(r.status_id) for r in rows}


def agent_at(
    engine: Engine, oid: int, *, sip: str | None = None, user_id: str | None = None
) -> tuple[AtExtension, str] | None:
    """The agent logged in at extension ``sip`` (or agent ``user_id`` if logged in), with
    the extension."""
    query = _SEATED.where(presence.c.org_id == oid, presence.c.status != LOGOUT)
    if sip is not None:
        query = query.where(extensions.c.sip == sip)
    else:
        query = query.where(agents.c.user_id == user_id)
    with reading(engine) as conn:
        r = conn.execute(query).first()
    if r is None or r.sip is None:
        return None
    return AtExtension(r.user_id, int(r.status), bool(r.available) or r.status == LOGIN), r.sip
