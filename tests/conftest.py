"""Fixtures shared by the whole suite: real databases, real server processes, factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """Fresh PostgreSQL databases on demand (skips without PostgreSQL, fails in CI)."""
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> str:
    """The test runs once on each engine, each time on a new database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'agentstatus.db'}"
    return postgres_databases.create()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agentstatus.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


OrgFactory = Callable[..., OrgFixture]


@pytest.fixture
def org_factory(engine: Engine) -> OrgFactory:
    def build(**kwargs: object) -> OrgFixture:
        return make_org(engine, **kwargs)  # type: ignore[arg-type]

    return build


@pytest.fixture
def server(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server process on the test's database (schema already migrated)."""
    with ServerProcess(database_url, tmp_path / "server.log") as process:
        yield process


@pytest.fixture(scope="module")
def shared_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('shared') / 'agentstatus.db'}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_database_url_on_each_engine(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> str:
    """For modules whose tests hold on any engine: override ``shared_database_url`` with
    this, and the whole module runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('shared') / 'agentstatus.db'}"
    return postgres_databases.create()


@pytest.fixture(scope="module")
def shared_engine(shared_database_url: str) -> Iterator[Engine]:
    engine = open_database(shared_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def shared_server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server process for a whole test module; tests create their own organisations."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with ServerProcess(shared_database_url, log) as process:
        yield process


@pytest.fixture
def shared_org_factory(shared_engine: Engine) -> OrgFactory:
    def build(**kwargs: object) -> OrgFixture:
        return make_org(shared_engine, **kwargs)  # type: ignore[arg-type]

    return build
