"""Fixtures shared by the whole suite: real databases, real server processes, factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess

# The directories whose modules take longest (the bench's smoke run, the browser, the
# reliability runs: 35-150 s each); run first, so that no worker ends the run alone with one
# of them (xdist's default order, most tests first, put the two-test bench module last: a
# two-minute tail). The Makefile keeps this order with --no-loadscope-reorder.
LONG_FIRST = ("tests/bench/", "tests/web/", "tests/reliability/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((i for i, d in enumerate(LONG_FIRST) if path.startswith(d)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: the order within a module is kept


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """Fresh PostgreSQL databases on demand (skips without PostgreSQL, fails in CI)."""
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[str]:
    """The test runs once on each engine, each time on a new database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agentstatus.db'}"
        return
    url = postgres_databases.create()
    yield url
    postgres_databases.release(url)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agentstatus.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


class OrgFactory(Protocol):
    """``make_org`` bound to a fixture's database."""

    def __call__(
        self, *, agent_count: int = 3, extension_count: int = 3, name: str | None = None
    ) -> OrgFixture: ...


def _org_factory(engine: Engine) -> OrgFactory:
    def build(
        *, agent_count: int = 3, extension_count: int = 3, name: str | None = None
    ) -> OrgFixture:
        return make_org(engine, agent_count=agent_count, extension_count=extension_count, name=name)

    return build


@pytest.fixture
def org_factory(engine: Engine) -> OrgFactory:
    return _org_factory(engine)


def _server_kind(request: pytest.FixtureRequest) -> type[ServerProcess]:
    """In this process (a uvicorn thread) unless the test is marked ``server_process``."""
    in_process = request.node.get_closest_marker("server_process") is None
    return InProcessServer if in_process else ServerProcess


@pytest.fixture
def server(
    request: pytest.FixtureRequest, database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[ServerProcess]:
    """The service on the test's database (schema already migrated), on a loopback port."""
    with _server_kind(request)(database_url, tmp_path / "server.log") as running:
        yield running


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
    request: pytest.FixtureRequest,
    shared_database_url: str,
    shared_engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """One server for a whole test module; tests create their own organisations."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with _server_kind(request)(shared_database_url, log) as running:
        yield running


@pytest.fixture
def shared_org_factory(shared_engine: Engine) -> OrgFactory:
    return _org_factory(shared_engine)
