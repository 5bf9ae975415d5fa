"""A database on each engine with one organisation, for the repositories' tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.storage import organisations, statuses


@dataclass(frozen=True, slots=True)
class Tenant:
    engine: Engine
    oid: int


@pytest.fixture
def tenant(any_database_url: str) -> Iterator[Tenant]:
    """The organisation ``acme`` (Code digest ``acme-code``) with the default catalogue."""
    engine = open_database(any_database_url)
    with engine.begin() as conn:
        oid = organisations.insert_organisation(conn, "acme", "acme-code", 1_000)
        statuses.insert_catalogue(conn, oid, DEFAULT_CATALOGUE)
    yield Tenant(engine, oid)
    engine.dispose()
