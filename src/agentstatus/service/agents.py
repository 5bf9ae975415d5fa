"""Agents: the people who log in. Each has a presence row from the moment it exists."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.service import validation
from agentstatus.service.csv_import import ImportSummary, import_pairs
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import AlreadyExists, InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.panel_links import revoke_agent_links
from agentstatus.service.presence import agent_row_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import agents, presence
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


@dataclass(frozen=True, slots=True)
class Agent:
    user_id: str
    name: str
    active: bool

    def as_json(self) -> dict[str, object]:
        """The shape of ``agent list --json`` and ``GET /api/v1/orgs/{org}/agents``."""
        return {"user_id": self.user_id, "name": self.name, "active": self.active}


def add_agent(
    engine: Engine,
    org: str,
    user_id: str,
    name: str | None = None,
    *,
    created_ms: int | None = None,
) -> Agent:
    """``created_ms``: since when the agent exists (the demo's agents have a past); now
    when not given."""
    user_id = validation.identifier("user id", user_id)
    clean_name = validation.display_name(name)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        if agents.find_id(conn, oid, user_id) is not None:
            raise AlreadyExists(f"agent {user_id!r} already exists in {org!r}")
        agents.insert_agent(
            conn, oid, user_id, clean_name, now_ms() if created_ms is None else created_ms
        )
    return Agent(user_id, clean_name, True)


def list_agents(engine: Engine, org: str, *, include_inactive: bool = True) -> list[Agent]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return [
            Agent(r.user_id, r.name, bool(r.active))
            for r in agents.rows(conn, oid, include_inactive=include_inactive)
        ]


def rename_agent(engine: Engine, org: str, user_id: str, name: str) -> Agent:
    return _update(engine, org, user_id, validation.display_name(name), None)[1]


def activate_agent(engine: Engine, org: str, user_id: str) -> Agent:
    """Let the agent log in again (it is logged out: deactivation logged it out)."""
    return _update(engine, org, user_id, None, True)[1]


def exist_since(engine: Engine, org: str, since_ms: int) -> int:
    """The organisation's agents created after ``since_ms`` exist from then on (a history
    written after the fact begins before they were added); how many were moved back."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        return agents.move_created_back(conn, oid, since_ms)


def _update(
    engine: Engine, org: str, user_id: str, name: str | None, active: bool | None
) -> tuple[int, Agent]:
    """Rename and (de)activate the agent in one transaction."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        aid = agent_row_id(conn, oid, user_id)
        if name is not None:
            agents.set_name(conn, aid, name)
        if active is not None:
            agents.set_active(conn, aid, active)
        if active is False:
            # Revoked, not merely refused while inactive: reactivating must not revive them.
            revoke_agent_links(conn, aid)
            # A change decided on facts read before this commit (the agent still active)
            # must not land: bumping the version makes its compare-and-set fail and decide
            # again.
            presence.bump_version(conn, aid)
        now_named, now_active = agents.name_of(conn, aid), agents.is_active(conn, aid)
    return oid, Agent(user_id, now_named, now_active)


async def update_agent(
    changes: StatusChanges,
    engine: Engine,
    org: str,
    user_id: str,
    *,
    name: str | None = None,
    active: bool | None = None,
    actor: str | None = None,
) -> Agent:
    """Rename, deactivate or reactivate the agent, in one transaction; a deactivated agent
    is then logged out (source ``admin``) and its history stays.

    Should the logout fail (the database unavailable), the agent is inactive and still
    shown where it was; deactivating again finishes the job.
    """
    clean_name = None if name is None else validation.display_name(name)
    oid, agent = await asyncio.to_thread(_update, engine, org, user_id, clean_name, active)
    if active is False:
        await changes.logout(oid, user_id, actor=actor)
    return agent


async def deactivate_agent(
    changes: StatusChanges, engine: Engine, org: str, user_id: str, actor: str | None = None
) -> Agent:
    """Refuse the agent from now on, then log it out (see :func:`update_agent`)."""
    return await update_agent(changes, engine, org, user_id, active=False, actor=actor)


def import_agents(engine: Engine, org: str, csv_text: str) -> ImportSummary:
    """Create the agents of a ``user_id,name`` CSV; existing ones get the file's name.

    Every row is checked first and nothing is written unless all are good; then the rows
    are written in short batches (``service.csv_import``: idempotent, so importing the
    same file again finishes an import the database or the process failed part-way).
    """
    pairs = read_pairs(csv_text, "user_id", lambda v: validation.identifier("user id", v))
    return import_pairs(engine, org, pairs, agents.user_ids, agents.import_batch)


def stream_org_id(engine: Engine, org: str, user_ids: list[str] | None) -> int:
    """The organisation's id, having checked that every agent named is one of its
    (an event stream filtered by agent)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        unstorable = [u for u in user_ids or () if "\x00" in u]  # PostgreSQL text holds no NUL
        if unstorable:
            raise InvalidInput(f"no agent {unstorable[0]!r} in this organisation")
        if user_ids:
            known = agents.known_user_ids(conn, oid, user_ids)
            unknown = sorted(set(user_ids) - known)
            if unknown:
                raise InvalidInput(f"no agent {unknown[0]!r} in this organisation")
    return oid
