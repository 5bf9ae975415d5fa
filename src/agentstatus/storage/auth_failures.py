"""The failed-authentication counts that every instance on one PostgreSQL database shares.

Only failures come here (the slow path: a request that authenticates never does). Each is
added to the client's row of ``auth_failures`` by an upsert that answers the count of every
instance together, in the window that opened at the client's first failure on the
database's clock, and that announces the new counts on ``CHANNEL`` in the same statement;
every instance listens and applies them. Failures are written in batches, by one task on
one connection, so a flood of them costs one statement per batch, not one per failure; the
connection does not wait for its commits to be flushed (a count lost in a crash of the
database is worth less than the fsync).

Each instance's listening connection carries ``APPLICATION_NAME``: counting them in
``pg_stat_activity`` tells the limiter how many instances share the allowance.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import orjson
import psycopg

log = logging.getLogger(__name__)

CHANNEL = "agentstatus_auth_failures"
APPLICATION_NAME = "agentstatus-limiter"
BATCH = 50
"""Clients per statement: the announcement must stay under PostgreSQL's 8,000 bytes."""
MAX_QUEUED = 100_000
"""Clients waiting to be written at most (the database is slow or away); beyond it a
failure is counted only in its own instance."""
BLOCKED_LOADED = 10_000

_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

# The window of a row is over when it opened ``window`` ms ago: then the failures start
# again from these. ``EXCLUDED`` is the row we proposed, opened now.
COUNT = f"""
WITH now AS (SELECT {_NOW} AS ms),
counted AS (
    INSERT INTO auth_failures AS f (client, opened_ms, failures)
    SELECT i.client, now.ms, i.n
    FROM unnest(%(clients)s::text[], %(counts)s::int[]) AS i (client, n), now
    ORDER BY i.client
    ON CONFLICT (client) DO UPDATE SET
        opened_ms = CASE WHEN f.opened_ms <= EXCLUDED.opened_ms - %(window)s
                         THEN EXCLUDED.opened_ms ELSE f.opened_ms END,
        failures = CASE WHEN f.opened_ms <= EXCLUDED.opened_ms - %(window)s
                        THEN EXCLUDED.failures ELSE f.failures + EXCLUDED.failures END
    RETURNING client, opened_ms, failures
), reported AS (
    SELECT c.client, c.opened_ms, c.failures, c.opened_ms + %(window)s - now.ms AS remaining
    FROM counted c, now
), told AS (
    SELECT pg_notify(%(channel)s, json_build_object(
        'from', %(me)s::text,
        'counts', json_agg(json_build_array(client, opened_ms, failures, remaining)))::text)
    FROM reported
)
SELECT r.client, r.opened_ms, r.failures, r.remaining FROM reported r CROSS JOIN told
"""
# (ORDER BY client: two instances' batches lock their rows in one order, never deadlock.)

READ = f"""
SELECT client, opened_ms, failures, opened_ms + %(window)s - {_NOW}
FROM auth_failures
WHERE client = ANY(%(clients)s::text[]) AND opened_ms > {_NOW} - %(window)s
"""

BLOCKED = f"""
SELECT client, opened_ms, failures, opened_ms + %(window)s - {_NOW}
FROM auth_failures
WHERE failures >= %(limit)s AND opened_ms > {_NOW} - %(window)s
ORDER BY opened_ms DESC
LIMIT {BLOCKED_LOADED}
"""

PRUNE = f"DELETE FROM auth_failures WHERE opened_ms <= {_NOW} - %(window)s"

INSTANCES = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = %(name)s
"""

_Connection = psycopg.AsyncConnection[Any]


class CountsTarget(Protocol):
    """Where the shared counts go: the limiter (``http.ratelimit.FailedAuthLimiter``)."""

    def report(self, key: str, opened_ms: int, failures: int, remaining_seconds: float) -> None:
        """The count of every instance for ``key``."""

    def set_instances(self, count: int) -> None:
        """How many instances share the counts."""


class SharedFailureCounts:
    def __init__(
        self,
        conninfo: str,
        *,
        limit: int,
        window_seconds: float,
        timeout_seconds: float = 5.0,
        membership_seconds: float = 5.0,
        retry_seconds: float = 1.0,
        connection_class: type[_Connection] = psycopg.AsyncConnection,
    ) -> None:
        self._conninfo = conninfo
        self._limit = limit
        self._window_ms = int(window_seconds * 1000)
        self._timeout = timeout_seconds
        self._membership = membership_seconds
        self._retry = retry_seconds
        self._connection_class = connection_class
        self._me = secrets.token_hex(8)
        self._target: CountsTarget | None = None
        self._queued: dict[str, tuple[int, list[asyncio.Future[None]]]] = {}
        self._refreshing: dict[str, asyncio.Future[None]] = {}
        self._work = asyncio.Event()
        self._recount = asyncio.Event()
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def deliver_to(self, target: CountsTarget) -> None:
        self._target = target

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="auth-failures-listener"),
            asyncio.create_task(self._write(), name="auth-failures-writer"),
        ]
        # Serve once this instance hears the others (and they count it), if the database
        # lets us within the timeout; otherwise start anyway and keep trying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), self._timeout)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for _, futures in self._queued.values():
            _resolve(futures)
        self._queued.clear()
        _resolve(self._refreshing.values())
        self._refreshing.clear()

    # -- the limiter's calls -----------------------------------------------------------

    def record(self, key: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queued = self._queued.get(key)
        if queued is not None:
            queued[1].append(future)
            self._queued[key] = (queued[0] + 1, queued[1])
        elif len(self._queued) >= MAX_QUEUED:
            future.set_result(None)
        else:
            self._queued[key] = (1, [future])
        self._work.set()
        return future

    def refresh(self, key: str) -> asyncio.Future[None]:
        # Callers for one client share one read.
        future = self._refreshing.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._refreshing[key] = future
            self._work.set()
        return future

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    # -- the writer --------------------------------------------------------------------

    async def _connect(self, **kwargs: Any) -> _Connection:
        timeout_ms = int(self._timeout * 1000)
        return await self._connection_class.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=max(1, round(self._timeout)),
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            tcp_user_timeout=timeout_ms,
            **kwargs,
        )

    async def _write(self) -> None:
        timeout_ms = int(self._timeout * 1000)
        while True:
            try:
                async with await self._connect(
                    options=f"-c synchronous_commit=off -c statement_timeout={timeout_ms}"
                ) as conn:
                    await self._serve(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "shared failure counts lost their connection (%s); retrying",
                    type(exc).__name__,
                )
            await asyncio.sleep(self._retry)

    async def _serve(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        next_count = next_prune = loop.time()
        while True:
            if loop.time() >= next_prune:
                await self._run(conn, PRUNE, {"window": self._window_ms})
                next_prune = loop.time() + self._window_ms / 1000
            if self._recount.is_set() or loop.time() >= next_count:
                self._recount.clear()
                cursor = await self._run(conn, INSTANCES, {"name": APPLICATION_NAME})
                found = await cursor.fetchone()
                if self._target is not None and found is not None:
                    self._target.set_instances(int(found[0]))
                next_count = loop.time() + self._membership
            if self._refreshing:
                await self._read(conn)
            elif self._queued:
                await self._count(conn)
            else:
                self._work.clear()
                with contextlib.suppress(TimeoutError):
                    # (see fanout's feed: not wait_for, which may swallow a cancel)
                    async with asyncio.timeout(max(0.0, min(next_count, next_prune) - loop.time())):
                        await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        work = asyncio.ensure_future(self._work.wait())
        recount = asyncio.ensure_future(self._recount.wait())
        try:
            await asyncio.wait({work, recount}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            work.cancel()
            recount.cancel()

    async def _count(self, conn: _Connection) -> None:
        clients = list(itertools.islice(self._queued, BATCH))
        batch = [(client, *self._queued.pop(client)) for client in clients]
        try:
            cursor = await self._run(
                conn,
                COUNT,
                {
                    "clients": clients,
                    "counts": [count for _, count, _ in batch],
                    "window": self._window_ms,
                    "channel": CHANNEL,
                    "me": self._me,
                },
            )
            self._deliver(await cursor.fetchall())
        except Exception:
            # Not counted here; each instance still counts its own. Reconnect.
            log.warning("shared failure counts missed %d failures", len(batch))
            raise
        finally:
            for _, _, futures in batch:
                _resolve(futures)

    async def _read(self, conn: _Connection) -> None:
        asked = dict(itertools.islice(self._refreshing.items(), BATCH))
        for client in asked:
            del self._refreshing[client]
        try:
            cursor = await self._run(
                conn, READ, {"clients": list(asked), "window": self._window_ms}
            )
            self._deliver(await cursor.fetchall())
        finally:
            _resolve(asked.values())

    async def _run(
        self, conn: _Connection, query: str, params: dict[str, object]
    ) -> psycopg.AsyncCursor[Any]:
        # A database that stops answering (no error, only silence) must not hold the
        # failures' answers for longer than the timeout.
        return await asyncio.wait_for(conn.execute(query, params), self._timeout)

    def _deliver(self, rows: Iterable[Sequence[Any]]) -> None:
        """Report counts: rows of (client, opened_ms, failures, remaining ms)."""
        if self._target is None:
            return
        for client, opened_ms, failures, remaining in rows:
            self._target.report(str(client), int(opened_ms), int(failures), remaining / 1000)

    # -- the listener ------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                async with await self._connect(application_name=APPLICATION_NAME) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # Tell the others to count again: one more instance shares the allowance.
                    await conn.execute(
                        "SELECT pg_notify(%s, %s)",
                        (CHANNEL, orjson.dumps({"from": self._me, "hello": True}).decode()),
                    )
                    # Clients blocked by others before we listened.
                    cursor = await conn.execute(
                        BLOCKED, {"window": self._window_ms, "limit": self._limit}
                    )
                    self._deliver(await cursor.fetchall())
                    self._recount.set()
                    self._work.set()
                    self._listening.set()
                    async for note in conn.notifies():
                        self._heard(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "shared failure counts stopped listening (%s); retrying", type(exc).__name__
                )
            finally:
                self._listening.clear()
            await asyncio.sleep(self._retry)

    def _heard(self, payload: str) -> None:
        try:
            note = orjson.loads(payload)
            if note.get("from") == self._me:
                return  # our own counts, delivered when they were written
            if note.get("hello"):
                self._recount.set()
                self._work.set()
                return
            self._deliver(note["counts"])
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            log.warning("ignored a malformed announcement of failure counts")


def _resolve(futures: Any) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)
