"""``RateLimited`` from the server's own limiter (row 5) and ``TransportError`` when nothing
answers, with both clients, in-process and over loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agentstatus.client import AuthorizationFailed, RateLimited, RetryPolicy, TransportError
from agentstatus.settings import Settings
from tests.client.support import Answer, Connect, Twin, in_process, scripted, twin
from tests.support.factories import make_org
from tests.support.server import ServerProcess, free_port

LIMIT = 2


@asynccontextmanager
async def limited(where: str, flavour: str, database_url: str, log: Path) -> AsyncIterator[Connect]:
    """The real service with a limit of two failed authentications a minute."""
    if where == "in-process":
        settings = Settings(database_url=database_url, auth_failures_per_minute=LIMIT)
        async with in_process(settings, flavour) as connect:
            yield connect
        return
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": str(LIMIT)}
    made: list[Twin] = []

    def connect(code: str, **kwargs: Any) -> Twin:
        made.append(twin(flavour, code, server.base_url, **kwargs))
        return made[-1]

    with ServerProcess(database_url, log, env=env) as server:
        try:
            yield connect
        finally:
            for client in made:
                await client.close()


@pytest.mark.parametrize("where", ["in-process", "loopback"])
async def test_row_5_is_rate_limited_at_once(
    where: str, flavour: str, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    async with limited(where, flavour, database_url, tmp_path / "server.log") as connect:
        wrong = connect("not-the-code")
        for _ in range(LIMIT):
            with pytest.raises(AuthorizationFailed):
                await wrong.login(org.agents[0], org.extensions[0])
        started = time.monotonic()
        with pytest.raises(RateLimited, match="try again in") as caught:
            # A Retry-After longer than max_retry_after is not waited for.
            await connect(org.code, retries=RetryPolicy(max_retry_after=5)).login(
                org.agents[0], org.extensions[0]
            )
        assert time.monotonic() - started < 3
        error = caught.value
        assert error.http_status == 429
        assert (error.status, error.status_error, error.message) == (2, 0, "Authorization Failed")
        assert error.retry_after is not None
        assert 5 < error.retry_after <= 60
        with pytest.raises(RateLimited):
            await connect(org.code, retries=0).presence()


async def test_nothing_listening_is_transport_error(flavour: str) -> None:
    port = free_port()
    client = twin(
        flavour, "some-code", f"http://127.0.0.1:{port}", retries=RetryPolicy(2, backoff=0.01)
    )
    with pytest.raises(TransportError, match="after 3 attempts") as caught:
        await client.login("1001", "sip1")
    error = caught.value
    assert "ConnectError" in str(error)
    assert f"127.0.0.1:{port}" in str(error)
    assert (error.status, error.status_error, error.message, error.http_status) == (
        None,
        None,
        None,
        None,
    )
    assert error.request is not None
    assert error.__cause__ is None
    await client.close()


async def test_a_server_that_does_not_answer_in_time_is_transport_error(flavour: str) -> None:
    with scripted(Answer(200, {}, delay=1.0)) as server:
        client = twin(
            flavour, "code", server.base_url, timeout=0.2, retries=RetryPolicy(1, backoff=0.01)
        )
        with pytest.raises(TransportError, match="ReadTimeout"):
            await client.statuses()
        assert len(server.received) == 2
        await client.close()


async def test_an_unknown_scheme_is_refused_when_built(flavour: str) -> None:
    with pytest.raises(ValueError, match="http"):
        twin(flavour, "code", "ftp://example.com")
    with pytest.raises(ValueError, match="method"):
        twin(flavour, "code", "http://example.com", method="PUT")
