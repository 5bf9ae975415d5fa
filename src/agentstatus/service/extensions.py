"""Extensions: the SIP endpoints agents log in at."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.service import validation
from agentstatus.service.csv_import import ImportSummary, import_pairs
from agentstatus.service.csv_rows import read_pairs
from agentstatus.service.errors import AlreadyExists, NotFound, Unavailable
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import ATTEMPTS, StatusChanges
from agentstatus.storage import extensions
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine, IntegrityError


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
        if extensions.exists(conn, oid, sip):
            raise AlreadyExists(f"extension {sip!r} already exists in {org!r}")
        extensions.insert_extension(conn, oid, sip, clean_name, now_ms())
    return Extension(sip, clean_name)


def list_extensions(engine: Engine, org: str) -> list[Extension]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return [
            Extension(r.sip, r.name, r.user_id) for r in extensions.rows_with_holders(conn, oid)
        ]


def _remove_if_free(engine: Engine, org: str, sip: str) -> tuple[int, Extension, str | None]:
    """Delete the extension unless an agent holds it: (org id, extension, holder)."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = extensions.find(conn, oid, sip)
        if found is None:
            raise NotFound(f"no extension {sip!r} in {org!r}")
        holder = extensions.holder(conn, found.id)
        if holder is None:
            extensions.delete_extension(conn, found.id)
    return oid, Extension(sip, found.name), holder


async def remove_extension(
    changes: StatusChanges, engine: Engine, org: str, sip: str, actor: str | None = None
) -> Extension:
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
        await changes.logout(oid, holder, actor=actor)
    raise Unavailable(f"extension {sip!r} keeps being taken; log its agents out and try again")


def import_extensions(engine: Engine, org: str, csv_text: str) -> ImportSummary:
    """Create the extensions of an ``extension,name`` CSV; existing ones get the file's
    name. Every row is checked first; then written in short batches, idempotently, as
    ``agents.import_agents``."""
    pairs = read_pairs(csv_text, "extension", lambda v: validation.identifier("extension", v))
    return import_pairs(engine, org, pairs, extensions.sips, extensions.import_batch)
