"""The reference ASGI applications the benchmark measures agentstatus against.

All three run under the same uvicorn as ``agentstatus serve`` (one worker, uvloop and
httptools, no access log), answer every path with the OK object, and do no validation:
they are ceilings, not implementations.

Every path but ``/UserLogin/SetStatusFromAPI`` (``/healthz`` for instance) gets the OK object
at once.

- ``app_ok``: reads the request (a POST's body too) and answers; no storage. The HTTP
  stack's ceiling.
- ``app_sqlite``: parses the parameters (query string, or a JSON body), then one SQLite
  transaction per request: upsert the agent's presence row, append a history row, commit.
  The database (``BENCH_REF_DB``) is a copy of the benchmark's agentstatus database, so
  the tables, their indexes and their size are the same. ``BENCH_REF_SYNC`` is ``FULL``
  (reference b, durable: the naive durable writer) or ``NORMAL`` (reference c, fast but
  not durable: a power cut loses the last commits). The transactions run one at a time
  on one writer thread, so the event loop keeps reading requests during an fsync;
  concurrent requests wait in the executor's queue and are never batched.
- ``app_postgres``: the same two statements in one transaction through psycopg 3 async
  and a psycopg_pool ``AsyncConnectionPool`` sized as agentstatus's (2 to 20), on
  ``BENCH_REF_PG`` (a libpq conninfo). With ``BENCH_REF_NOTIFY=1`` the transaction also
  sends a ``pg_notify``, as agentstatus once did in every status transaction (an
  experiment, not part of ``make bench``).

Agent ``i`` of the data set has user id ``USER_BASE + i`` and extension
``sip{USER_BASE + i}`` and both rows have id ``i`` (see ``bench/dataset.py``); the
references use that mapping instead of looking anything up.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

import orjson

USER_BASE = 100_000
ORG_ID = 1
LOGOUT = 2
OK_BODY = b'{"Status":1,"StatusError":1,"StatusErroMessage":"OK"}'
FAIL_BODY = b'{"Status":0,"StatusError":4,"StatusErroMessage":"Error on update"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(OK_BODY))]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPSERT_PRESENCE = """
INSERT INTO presence (agent_id, org_id, extension_id, status, since_ms) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (agent_id) DO UPDATE
SET extension_id = excluded.extension_id, status = excluded.status, since_ms = excluded.since_ms
"""
INSERT_HISTORY = """
INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                     prev_status, new_status, at_ms, source, client_addr, kind)
VALUES (?, ?, ?, NULL, ?, 0, ?, ?, ?, ?, ?)
"""
PG_UPSERT_PRESENCE = """
INSERT INTO presence (agent_id, org_id, extension_id, status, since_ms)
VALUES (%(agent)s, %(org)s, %(ext_id)s, %(status)s, %(at)s)
ON CONFLICT (agent_id) DO UPDATE
SET extension_id = excluded.extension_id, status = excluded.status, since_ms = excluded.since_ms
"""
PG_INSERT_HISTORY = """
INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                     prev_status, new_status, at_ms, source, client_addr, kind)
VALUES (%(org)s, %(agent)s, %(user)s, NULL, %(ext)s, 0, %(status)s, %(at)s, %(source)s,
        %(addr)s, CASE WHEN %(status)s = 2 THEN 'agent.logout' ELSE 'agent.status' END)
"""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, body: bytes = OK_BODY, status: int = 200) -> None:
    headers = _HEADERS if body is OK_BODY else [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(
    receive: Receive,
    send: Send,
    startup: Callable[[], Awaitable[None]] | None = None,
    shutdown: Callable[[], Awaitable[None]] | None = None,
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if startup is not None:
                await startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if shutdown is not None:
                await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app_ok(scope: Scope, receive: Receive, send: Send) -> None:
    """(a) The OK object, no storage."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["method"] == "POST":
        await _read_body(receive)
    await _answer(send)


STATUS_PATH = "/userlogin/setstatusfromapi"


def _kind(status: int) -> str:
    """The history's kind of a change from status 0 (never logged out before)."""
    return "agent.logout" if status == LOGOUT else "agent.status"


def _is_status_path(scope: Scope) -> bool:
    return str(scope["path"]).rstrip("/").lower() == STATUS_PATH


class Change:
    """The parameters of one request, mapped to the data set's row ids."""

    __slots__ = ("addr", "agent", "ext", "ext_id", "source", "status", "user")

    def __init__(self, params: dict[str, Any], source: str, addr: str | None) -> None:
        self.user = str(params["userid"]).strip()
        self.status = int(params["status"])
        self.agent = int(self.user) - USER_BASE
        if self.status == LOGOUT:
            self.ext, self.ext_id = None, None
        else:
            self.ext = str(params["extensionuser"]).strip()
            self.ext_id = int(self.ext.removeprefix("sip")) - USER_BASE
        self.source = source
        self.addr = addr


async def _change(scope: Scope, receive: Receive) -> Change:
    if scope["method"] == "POST":
        raw = orjson.loads(await _read_body(receive))
        params = {str(k).lower(): v for k, v in raw.items()}
        source = "POST"
    else:
        query = scope["query_string"].decode("latin-1")
        params = {k.lower(): v for k, v in parse_qsl(query)}
        source = "GET"
    client = scope.get("client")
    return Change(params, source, client[0] if client else None)


class SqliteWriter:
    """(b) and (c): one transaction, so one commit, per request, on one writer thread."""

    def __init__(self) -> None:
        self.conn: sqlite3.Connection | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ref-writer")

    def _open(self) -> None:
        path = os.environ["BENCH_REF_DB"]
        sync = os.environ.get("BENCH_REF_SYNC", "FULL").upper()
        if sync not in ("FULL", "NORMAL"):
            raise ValueError(f"BENCH_REF_SYNC must be FULL or NORMAL, not {sync!r}")
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {sync}")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn = conn

    def write(self, c: Change) -> None:
        conn = self.conn
        assert conn is not None
        at = int(time.time() * 1000)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(UPSERT_PRESENCE, (c.agent, ORG_ID, c.ext_id, c.status, at))
            conn.execute(
                INSERT_HISTORY,
                (ORG_ID, c.agent, c.user, c.ext, c.status, at, c.source, c.addr, _kind(c.status)),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self._startup, self._shutdown)
            return
        if not _is_status_path(scope):
            await _answer(send)
            return
        try:
            change = await _change(scope, receive)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.executor, self.write, change)
        except Exception:
            await _answer(send, FAIL_BODY, 503)
            return
        await _answer(send)

    async def _startup(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self._open)

    async def _shutdown(self) -> None:
        self.executor.shutdown(wait=True)
        if self.conn is not None:
            self.conn.close()


class PostgresWriter:
    """The PostgreSQL reference: the same two statements, one transaction, a pool."""

    def __init__(self) -> None:
        self.pool: Any = None
        self.notify = os.environ.get("BENCH_REF_NOTIFY") == "1"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self._startup, self._shutdown)
            return
        if not _is_status_path(scope):
            await _answer(send)
            return
        try:
            c = await _change(scope, receive)
            params = {
                "agent": c.agent,
                "org": ORG_ID,
                "ext_id": c.ext_id,
                "ext": c.ext,
                "status": c.status,
                "at": int(time.time() * 1000),
                "user": c.user,
                "source": c.source,
                "addr": c.addr,
            }
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(PG_UPSERT_PRESENCE, params)
                await conn.execute(PG_INSERT_HISTORY, params)
                if self.notify:
                    await conn.execute("SELECT pg_notify('agentstatus_events', '1')")
        except Exception:
            await _answer(send, FAIL_BODY, 503)
            return
        await _answer(send)

    async def _startup(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        self.pool = AsyncConnectionPool(
            os.environ["BENCH_REF_PG"],
            min_size=2,
            max_size=20,
            open=False,
            timeout=5,
            kwargs={"autocommit": True},
        )
        await self.pool.open(wait=True)

    async def _shutdown(self) -> None:
        await self.pool.close()


app_sqlite = SqliteWriter()
app_postgres = PostgresWriter()
