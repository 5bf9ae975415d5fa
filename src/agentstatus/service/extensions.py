"""Extensions: the SIP endpoints agents log in at."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentstatus.domain.clock import now_ms
from agentstatus.service import validation
from agentstatus.service.csv_import import Existing, ImportSummary, Pair, import_pairs
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import AlreadyExists, NotFound, Unavailable
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import ATTEMPTS, StatusChanges
from agentstatus.storage.batches import insert_new
from agentstatus.storage.database import reading
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
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return [
            Extension(r.sip, r.name, r.user_id)
            for r in conn.execute(query.where(extensions.c.org_id == oid))
        ]


def _remove_if_free(engine: Engine, org: str, sip: str) -> tuple[int, Extension, str | None]:
    """Delete the extension unless an agent holds it: (org id, extension, holder)."""
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
            select(agents.c.user_id)
            .select_from(presence.join(agents, agents.c.id == presence.c.agent_id))
            .where(presence.c.extension_id == found.id)
        ).scalar()
        if holder is None:
            conn.execute(delete(extensions).where(extensions.c.id == found.id))
    return oid, Extension(sip, found.name), holder


async def remove_extension(changes: StatusChanges, engine: Engine, org: str, sip: str) -> Extension:
    """Remove an extension; an agent holding it is logged out first (source ``admin``).

    An agent that logs in at the extension meanwhile is logged out in turn (the database's
    foreign key refuses the delete while any presence row points at the extension).
    """
    for _ in range(ATTEMPTS):
        try:
            oid, removed, holder = await asyncio.to_thread(_remove_if_free, engine, org, sip)
        except IntegrityError:
            continue  # an agent took the extension after we looked
        if holder is None:
            return removed
        await changes.logout(oid, holder)
    raise Unavailable(f"extension {sip!r} keeps being taken; log its agents out and try again")


def _existing(conn: Connection, oid: int) -> set[str]:
    query = select(extensions.c.sip).where(extensions.c.org_id == oid)
    return set(conn.execute(query).scalars())


_RENAME = (
    update(extensions)
    .where(extensions.c.org_id == bindparam("oid"), extensions.c.sip == bindparam("key"))
    .values(name=bindparam("new_name"))
)


def _import_batch(
    conn: Connection, oid: int, rows: Sequence[Pair], existing: Existing, at: int
) -> tuple[int, int]:
    """One batch of an import: rename the extensions present, create the others."""
    fresh = [
        {"org_id": oid, "sip": s, "name": n, "created_ms": at} for s, n in rows if s not in existing
    ]
    created = (
        insert_new(
            conn,
            extensions,
            fresh,
            unique=[extensions.c.org_id, extensions.c.sip],
            returning=[extensions.c.sip],
        )
        if fresh
        else []
    )
    inserted = {sip for (sip,) in created}
    renamed = [{"oid": oid, "key": s, "new_name": n} for s, n in rows if s not in inserted]
    if renamed:
        conn.execute(_RENAME, renamed)
    return len(inserted), len(renamed)


def import_extensions(engine: Engine, org: str, csv_text: str) -> ImportSummary:
    """Create the extensions of an ``extension,name`` CSV; existing ones get the file's
    name. Every row is checked first; then written in short batches, idempotently, as
    ``agents.import_agents``."""
    pairs = read_pairs(csv_text, "extension", lambda v: validation.identifier("extension", v))
    return import_pairs(engine, org, pairs, _existing, _import_batch)
