"""Extensions: the SIP endpoints agents log in at."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.service import validation
from agentstatus.service.agents import ImportSummary
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import AlreadyExists, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.service.presence import logout_agents
from agentstatus.storage.schema import agents, extensions, presence


@dataclass(frozen=True, slots=True)
class Extension:
    extension: str
    name: str
    held_by: str | None = None


def add_extension(engine: Engine, org: str, sip: str, name: str | None = None) -> Extension:
    sip = validation.identifier("extension", sip)
    clean_name = validation.display_name(name)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        exists = conn.execute(
            select(extensions.c.id).where(extensions.c.org_id == oid, extensions.c.sip == sip)
        ).first()
        if exists:
            raise AlreadyExists(f"extension {sip!r} already exists in {org!r}")
        conn.execute(
            insert(extensions).values(org_id=oid, sip=sip, name=clean_name, created_ms=now_ms())
        )
    return Extension(sip, clean_name)


def list_extensions(engine: Engine, org: str) -> list[Extension]:
    query = (
        select(extensions.c.sip, extensions.c.name, agents.c.user_id)
        .select_from(
            extensions.outerjoin(presence, presence.c.extension_id == extensions.c.id).outerjoin(
                agents, agents.c.id == presence.c.agent_id
            )
        )
        .order_by(extensions.c.sip)
    )
    with engine.connect() as conn:
        oid = org_id(conn, org)
        return [
            Extension(r.sip, r.name, r.user_id)
            for r in conn.execute(query.where(extensions.c.org_id == oid))
        ]


def remove_extension(engine: Engine, org: str, sip: str) -> Extension:
    """Remove an extension; an agent holding it is logged out first (source ``admin``)."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = conn.execute(
            select(extensions.c.id, extensions.c.name).where(
                extensions.c.org_id == oid, extensions.c.sip == sip
            )
        ).first()
        if found is None:
            raise NotFound(f"no extension {sip!r} in {org!r}")
        holder = conn.execute(
            select(presence.c.agent_id).where(presence.c.extension_id == found.id)
        ).first()
        if holder is not None:
            logout_agents(conn, oid, [holder.agent_id], Source.ADMIN, now_ms())
        conn.execute(delete(extensions).where(extensions.c.id == found.id))
    return Extension(sip, found.name)


def import_extensions(engine: Engine, org: str, csv_text: str) -> ImportSummary:
    """Create the extensions of an ``extension,name`` CSV; existing ones get the file's
    name. All rows or none."""
    pairs = read_pairs(csv_text, "extension", lambda v: validation.identifier("extension", v))
    at = now_ms()
    created = updated = 0
    with engine.begin() as conn:
        oid = org_id(conn, org)
        existing = dict(
            conn.execute(
                select(extensions.c.sip, extensions.c.id).where(extensions.c.org_id == oid)
            ).all()
        )
        for sip, name in pairs:
            if sip in existing:
                conn.execute(
                    update(extensions).where(extensions.c.id == existing[sip]).values(name=name)
                )
                updated += 1
            else:
                conn.execute(
                    insert(extensions).values(org_id=oid, sip=sip, name=name, created_ms=at)
                )
                created += 1
    return ImportSummary(created, updated)
