"""Fixtures for the client's tests: each test runs with ``Client`` and ``AsyncClient``, and
against the real service in-process (ASGI) and over loopback (an ``agentstatus serve``
process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from agentstatus.settings import Settings
from tests.client.support import Connect, Twin, in_process, twin
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Api:
    """The service under test, however it is reached."""

    where: str
    engine: Engine
    database_url: str
    connect: Connect

    def org(self, **kwargs: Any) -> OrgFixture:
        return make_org(self.engine, **kwargs)


@pytest.fixture(params=["in-process", "loopback"])
async def api(request: pytest.FixtureRequest, flavour: str) -> AsyncIterator[Api]:
    if request.param == "in-process":
        database_url: str = request.getfixturevalue("database_url")
        engine: Engine = request.getfixturevalue("engine")
        settings = Settings(database_url=database_url)
        async with in_process(settings, flavour) as connect:
            yield Api("in-process", engine, database_url, connect)
        return
    server: ServerProcess = request.getfixturevalue("shared_server")
    shared_engine: Engine = request.getfixturevalue("shared_engine")
    made: list[Twin] = []

    def connect_loopback(code: str | None, **kwargs: Any) -> Twin:
        made.append(twin(flavour, code, server.base_url, **kwargs))
        return made[-1]

    try:
        yield Api("loopback", shared_engine, server.database_url, connect_loopback)
    finally:
        for client in made:
            await client.close()
