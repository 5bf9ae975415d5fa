"""Fixtures of the native API tests: one real server per module, and HTTP clients that
carry real bearer tokens made in the same database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service.tokens import Role, create_token
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

ClientFactory = Callable[..., httpx.Client]


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


@pytest.fixture
def token_for(shared_engine: Engine) -> Callable[..., str]:
    def make(role: Role = Role.ADMIN, org: str | None = None) -> str:
        return create_token(shared_engine, role, org).token

    return make


@pytest.fixture
def client_for(
    shared_server: ServerProcess, token_for: Callable[..., str]
) -> Iterator[ClientFactory]:
    """``client_for(role, org)``: a client of ``/api/v1`` with a fresh token."""
    opened: list[httpx.Client] = []

    def make(role: Role = Role.ADMIN, org: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token_for(role, org)}"}
        client = httpx.Client(
            base_url=f"{shared_server.base_url}/api/v1", headers=headers, timeout=30
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def admin(client_for: ClientFactory) -> httpx.Client:
    """An admin of every organisation."""
    return client_for(Role.ADMIN)


@pytest.fixture
def anonymous(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{shared_server.base_url}/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
def org(shared_org_factory: Callable[..., OrgFixture]) -> OrgFixture:
    """A fresh organisation with agents 101-103 and extensions sip1-sip3."""
    return shared_org_factory()
