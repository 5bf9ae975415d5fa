"""The limiter with its counts shared on a real PostgreSQL (``storage.auth_failures``), two
"instances" in this process: one allowance between them, and not one statement on the
path of a request that authenticates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import psycopg
from psycopg import AsyncCursor
from psycopg.abc import Params, QueryNoTemplate

from agentstatus.http.ratelimit import FailedAuthLimiter, Refusal, Ticket
from agentstatus.storage.auth_failures import SharedFailureCounts
from agentstatus.storage.database import libpq_conninfo, parse_url
from agentstatus.wire.outcomes import Row
from tests.support.postgres import PostgresDatabases

LIMIT = 20


class CountingConnection(psycopg.AsyncConnection[Any]):
    """A real connection that remembers every statement it is asked to run."""

    statements: ClassVar[list[str]] = []

    async def execute(  # type: ignore[override]  # (no template strings are sent)
        self,
        query: QueryNoTemplate,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool = False,
    ) -> AsyncCursor[Any]:
        CountingConnection.statements.append(" ".join(str(query).split()))
        return await super().execute(query, params, prepare=prepare, binary=binary)


@asynccontextmanager
async def instance(
    url: str, connection_class: type[psycopg.AsyncConnection[Any]] = psycopg.AsyncConnection
) -> AsyncIterator[FailedAuthLimiter]:
    shared = SharedFailureCounts(
        libpq_conninfo(parse_url(url)),
        limit=LIMIT,
        window_seconds=60.0,
        membership_seconds=3600.0,  # counted at start and when an instance joins
        connection_class=connection_class,
    )
    limiter = FailedAuthLimiter(LIMIT, shared=shared)
    shared.deliver_to(limiter)
    await shared.start()
    assert shared.listening
    try:
        yield limiter
    finally:
        await shared.close()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def settled(statements: list[str], quiet: float = 0.5) -> int:
    """The number of statements once none has been sent for ``quiet`` seconds."""
    seen, since = len(statements), time.monotonic()
    while time.monotonic() - since < quiet:
        await asyncio.sleep(0.05)
        if len(statements) != seen:
            seen, since = len(statements), time.monotonic()
    return seen


async def admitted(limiter: FailedAuthLimiter, address: str, code: str) -> Ticket:
    ticket = await limiter.admit(address, code)
    assert isinstance(ticket, Ticket), ticket
    return ticket


async def test_two_instances_count_against_one_allowance(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.create()
    async with instance(url) as a, instance(url) as b:
        await until(lambda: a.instances == b.instances == 2)
        me = "198.51.100.20"
        for i in range(LIMIT):
            await (a, b)[i % 2].failed(await admitted((a, b)[i % 2], me, f"guess{i}"))
        # The 21st, on either instance, and a right Code too: refused.
        for lim in (a, b):
            for code in ("guess-21", "right"):
                refused = await lim.admit(me, code)
                assert isinstance(refused, Refusal)
                assert refused.row is Row.RATE_LIMITED
        # Twenty failures on one instance block the client on the other, which never saw
        # one of them, once the announcement has arrived.
        other = "198.51.100.21"
        for i in range(LIMIT):
            await a.failed(await admitted(a, other, f"guess{i}"))
        await until(lambda: b.retry_after(other) is not None)
        assert isinstance(await admitted(b, "198.51.100.22", "x"), Ticket)


async def test_the_successful_path_sends_no_statement(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.create()
    statements = CountingConnection.statements
    statements.clear()
    async with instance(url, CountingConnection) as lim:
        assert any("LISTEN" in s for s in statements)  # the counter sees the connections
        for i in range(LIMIT - 1):
            await lim.failed(await admitted(lim, "198.51.0.0", f"guess{i}"))
        before = await settled(statements)
        for round_ in range(3):
            for i in range(100):
                # New Codes (held while they run) and trusted ones, from many clients,
                # one of which has nearly used its allowance.
                address = f"198.51.{round_}.{i}"
                lim.authenticated(await admitted(lim, address, f"code{i}"))
                lim.authenticated(await admitted(lim, address, f"code{i}"))
                lim.abandoned(await admitted(lim, address, "row 11"))
        assert await settled(statements) == before, statements[before:]
        await lim.failed(await admitted(lim, "198.51.0.1", "wrong"))
        assert await settled(statements) > before  # and a failure does send one
        assert [s for s in statements[before:] if "INSERT INTO auth_failures" in s]
