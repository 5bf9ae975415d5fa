"""Agents: the people who log in. Each has a presence row from the moment it exists."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.service import validation
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import AlreadyExists, InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.presence import agent_row_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, presence


@dataclass(frozen=True, slots=True)
class Agent:
    user_id: str
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int


def _insert_agent(conn: Connection, oid: int, user_id: str, name: str, at: int) -> None:
    new_id = conn.execute(
        insert(agents).values(org_id=oid, user_id=user_id, name=name, active=True, created_ms=at)
    ).inserted_primary_key
    assert new_id is not None
    conn.execute(
        insert(presence).values(
            agent_id=new_id[0], org_id=oid, extension_id=None, status=LOGOUT, since_ms=at
        )
    )


def add_agent(engine: Engine, org: str, user_id: str, name: str | None = None) -> Agent:
    user_id = validation.identifier("user id", user_id)
    clean_name = validation.display_name(name)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        exists = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == user_id)
        ).first()
        if exists:
            raise AlreadyExists(f"agent {user_id!r} already exists in {org!r}")
        _insert_agent(conn, oid, user_id, clean_name, now_ms())
    return Agent(user_id, clean_name, True)


def list_agents(engine: Engine, org: str, *, include_inactive: bool = True) -> list[Agent]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        query = select(agents.c.user_id, agents.c.name, agents.c.active).where(
            agents.c.org_id == oid
        )
        if not include_inactive:
            query = query.where(agents.c.active)
        return [
            Agent(r.user_id, r.name, bool(r.active))
            for r in conn.execute(query.order_by(agents.c.user_id))
        ]


def rename_agent(engine: Engine, org: str, user_id: str, name: str) -> Agent:
    clean_name = validation.display_name(name)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        aid = agent_row_id(conn, oid, user_id)
        conn.execute(update(agents).where(agents.c.id == aid).values(name=clean_name))
        active = conn.execute(select(agents.c.active).where(agents.c.id == aid)).scalar_one()
    return Agent(user_id, clean_name, bool(active))


def activate_agent(engine: Engine, org: str, user_id: str) -> Agent:
    """Let the agent log in again (it is logged out: deactivation logged it out)."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        aid = agent_row_id(conn, oid, user_id)
        conn.execute(update(agents).where(agents.c.id == aid).values(active=True))
        name = conn.execute(select(agents.c.name).where(agents.c.id == aid)).scalar_one()
    return Agent(user_id, name, True)


def _deactivate(engine: Engine, org: str, user_id: str) -> tuple[int, Agent]:
    with engine.begin() as conn:
        oid = org_id(conn, org)
        aid = agent_row_id(conn, oid, user_id)
        conn.execute(update(agents).where(agents.c.id == aid).values(active=False))
        # A change decided on facts read before this commit (the agent still active) must
        # not land: bumping the version makes its compare-and-set fail and decide again.
        conn.execute(
            update(presence)
            .where(presence.c.agent_id == aid)
            .values(version=presence.c.version + 1)
        )
        name = conn.execute(select(agents.c.name).where(agents.c.id == aid)).scalar_one()
    return oid, Agent(user_id, name, False)


async def deactivate_agent(changes: StatusChanges, engine: Engine, org: str, user_id: str) -> Agent:
    """Refuse the agent from now on, then log it out (source ``admin``); its history stays.

    Should the logout fail (the database unavailable), the agent is inactive and still
    shown where it was; deactivating again finishes the job.
    """
    oid, agent = await asyncio.to_thread(_deactivate, engine, org, user_id)
    await changes.logout(oid, user_id)
    return agent


def import_agents(engine: Engine, org: str, csv_text: str) -> ImportSummary:
    """Create the agents of a ``user_id,name`` CSV; existing ones get the file's name.
    All rows or none."""
    pairs = read_pairs(csv_text, "user_id", lambda v: validation.identifier("user id", v))
    at = now_ms()
    created = updated = 0
    with engine.begin() as conn:
        oid = org_id(conn, org)
        existing = dict(
            conn.execute(select(agents.c.user_id, agents.c.id).where(agents.c.org_id == oid)).all()
        )
        for user_id, name in pairs:
            if user_id in existing:
                conn.execute(
                    update(agents).where(agents.c.id == existing[user_id]).values(name=name)
                )
                updated += 1
            else:
                _insert_agent(conn, oid, user_id, name, at)
                created += 1
    return ImportSummary(created, updated)


def stream_org_id(engine: Engine, org: str, user_ids: list[str] | None) -> int:
    """The organisation's id, having checked that every agent named is one of its
    (an event stream filtered by agent)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        unstorable = [u for u in user_ids or () if "\x00" in u]  # PostgreSQL text holds no NUL
        if unstorable:
            raise InvalidInput(f"no agent {unstorable[0]!r} in this organisation")
        if user_ids:
            known = set(
                conn.execute(
                    select(agents.c.user_id).where(
                        agents.c.org_id == oid, agents.c.user_id.in_(user_ids)
                    )
                ).scalars()
            )
            unknown = sorted(set(user_ids) - known)
            if unknown:
                raise InvalidInput(f"no agent {unknown[0]!r} in this organisation")
    return oid
