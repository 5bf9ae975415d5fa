"""Organisations (tenants): creation with the default catalogue, codes, allow-lists."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from agentstatus.domain.addresses import AddressError, normalise_allowlist
from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.domain.clock import now_ms
from agentstatus.domain.codes import digest, generate_code
from agentstatus.service import validation
from agentstatus.service.errors import AlreadyExists, CodeTaken, InvalidInput, OrganisationNotFound
from agentstatus.storage import organisations, statuses
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine, IntegrityError


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
    found = organisations.find_id(conn, name)
    if found is None:
        raise OrganisationNotFound(f"no organisation named {name!r}")
    return found


def org_id_for_code(conn: Connection, code: str) -> int | None:
    return organisations.find_id_by_code_hash(conn, digest(code))


def create_organisation(engine: Engine, name: str, code: str | None = None) -> OrganisationCode:
    validation.org_name(name)
    clear = validation.code(code) if code is not None else generate_code()
    at = now_ms()
    try:
        with engine.begin() as conn:
            if organisations.find_id(conn, name) is not None:
                raise AlreadyExists(f"organisation {name!r} already exists")
            new_id = organisations.insert_organisation(conn, name, digest(clear), at)
            statuses.insert_catalogue(conn, new_id, DEFAULT_CATALOGUE)
    except IntegrityError:
        # Deliberately vague: saying which constraint failed could confirm another tenant's
        # code (the API says even less, http/api/custom_codes.py).
        raise CodeTaken(
            f"organisation {name!r} could not be created: the name or the code is taken"
        ) from None
    return OrganisationCode(name, clear)


def list_organisations(engine: Engine) -> list[Organisation]:
    with reading(engine) as conn:
        return [
            Organisation(
                name=row.name,
                allowlist=None if row.allowlist is None else orjson.loads(row.allowlist),
                agents=row.agents,
                extensions=row.extensions,
                created_ms=row.created_ms,
            )
            for row in organisations.summaries(conn)
        ]


def rotate_code(engine: Engine, name: str, code: str | None = None) -> OrganisationCode:
    clear = validation.code(code) if code is not None else generate_code()
    try:
        with engine.begin() as conn:
            oid = org_id(conn, name)
            organisations.set_code_hash(conn, oid, digest(clear))
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
        organisations.set_allowlist(
            conn, oid, None if not normal else orjson.dumps(normal).decode()
        )
    return normal or None
