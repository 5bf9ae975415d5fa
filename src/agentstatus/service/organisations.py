"""Organisations (tenants): creation with the default catalogue, codes, allow-lists."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentstatus.domain.addresses import AddressError, normalise_allowlist
from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest, generate_code
from agentstatus.service import validation
from agentstatus.service.errors import AlreadyExists, CodeTaken, InvalidInput, OrganisationNotFound
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, extensions, organisations, statuses


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    allowlist: list[str] | None
    agents: int
    extensions: int
    created_ms: int


@dataclass(frozen=True, slots=True)
class OrganisationCode:
    """The clear code: returned once, when created or rotated, and never stored."""

    name: str
    code: str


def org_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first()
    if found is None:
        raise OrganisationNotFound(f"no organisation named {name!r}")
    return int(found.id)


def org_id_for_code(conn: Connection, code: str) -> int | None:
    found = conn.execute(
        select(organisations.c.id).where(organisations.c.code_hash == digest(code))
    ).first()
    return None if found is None else int(found.id)


def create_organisation(engine: Engine, name: str, code: str | None = None) -> OrganisationCode:
    validation.org_name(name)
    clear = validation.code(code) if code is not None else generate_code()
    at = now_ms()
    try:
        with engine.begin() as conn:
            if conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first():
                raise AlreadyExists(f"organisation {name!r} already exists")
            new_id = conn.execute(
                insert(organisations).values(name=name, code_hash=digest(clear), created_ms=at)
            ).inserted_primary_key
            assert new_id is not None
            conn.execute(
                insert(statuses),
                [
                    {
                        "org_id": new_id[0],
                        "status_id": s.id,
                        "name": s.name,
                        "color": s.color,
                        "available": s.available,
                        "enabled": s.enabled,
                    }
                    for s in DEFAULT_CATALOGUE
                ],
            )
    except IntegrityError:
        # Deliberately vague: saying which constraint failed could confirm another tenant's
        # code (the API says even less, http/api/custom_codes.py).
        raise CodeTaken(
            f"organisation {name!r} could not be created: the name or the code is taken"
        ) from None
    return OrganisationCode(name, clear)


def list_organisations(engine: Engine) -> list[Organisation]:
    agent_count = (
        select(func.count()).where(agents.c.org_id == organisations.c.id).scalar_subquery()
    )
    extension_count = (
        select(func.count()).where(extensions.c.org_id == organisations.c.id).scalar_subquery()
    )
    query = select(
        organisations.c.name,
        organisations.c.allowlist,
        organisations.c.created_ms,
        agent_count.label("agents"),
        extension_count.label("extensions"),
    ).order_by(organisations.c.name)
    with reading(engine) as conn:
        return [
            Organisation(
                name=row.name,
                allowlist=None if row.allowlist is None else orjson.loads(row.allowlist),
                agents=row.agents,
                extensions=row.extensions,
                created_ms=row.created_ms,
            )
            for row in conn.execute(query)
        ]


def rotate_code(engine: Engine, name: str, code: str | None = None) -> OrganisationCode:
    clear = validation.code(code) if code is not None else generate_code()
    try:
        with engine.begin() as conn:
            oid = org_id(conn, name)
            conn.execute(
                update(organisations)
                .where(organisations.c.id == oid)
                .values(code_hash=digest(clear))
            )
    except IntegrityError:
        # code_hash is unique: the wire finds the organisation by its Code alone. The API
        # does not pass this message on (http/api/custom_codes.py).
        raise CodeTaken("that code is taken; choose another") from None
    return OrganisationCode(name, clear)


def set_allowlist(engine: Engine, name: str, entries: list[str] | None) -> list[str] | None:
    """Replace the allow-list; None (or an empty list) removes it, allowing every address."""
    try:
        normal = normalise_allowlist(entries) if entries else None
    except AddressError as exc:
        raise InvalidInput(str(exc)) from None
    with engine.begin() as conn:
        oid = org_id(conn, name)
        conn.execute(
            update(organisations)
            .where(organisations.c.id == oid)
            .values(allowlist=None if not normal else orjson.dumps(normal).decode())
        )
    return normal or None
