"""The PostgreSQL status engine: two statements per change, no transaction block.

The facts are read in one statement; the change is written in another, which updates the
agent's presence row only if it is still at the version the facts were read at (compare
and set) and appends the history and outbox rows in the same statement, so each is its
own transaction and commits without a BEGIN or COMMIT round trip. If anything wrote the
presence row in between, the write matches no row and the service decides again on fresh
facts. Two agents racing for one extension are settled by the unique index on
``presence.extension_id``: the loser's write fails and it is answered "Extension is
already in use". PostgreSQL's own group commit batches the fsyncs of concurrent
transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import StatusResult
from agentstatus.domain.integers import INT32_MAX
from agentstatus.storage.audit import AuditRow, write_audit_postgres
from agentstatus.storage.event_log import postgres_append, postgres_parameters
from agentstatus.storage.protocol import (
    AgentFacts,
    ReadFacts,
    Reply,
    Step,
    Steps,
    WriteChange,
    WriteRefused,
    drive_async,
)
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

_INT4_MAX = INT32_MAX

# org id, allow-list, agent id, active, status, version, its extension's name, requested
# extension id, its holder, requested status enabled, its limit
_FactsRow = tuple[
    int,
    str | None,
    int | None,
    bool | None,
    int | None,
    int | None,
    str | None,
    int | None,
    str | None,
    bool,
    int | None,
    int | None,
]

_FACTS = """
SELECT o.id, o.allowlist, a.id, a.active, p.status, p.version,
       (SELECT sip FROM extensions WHERE id = p.extension_id),
       (SELECT e.id FROM extensions e WHERE e.org_id = o.id AND e.sip = %(ext)s),
       (SELECT ha.user_id FROM extensions e
          JOIN presence hp ON hp.extension_id = e.id
          JOIN agents ha ON ha.id = hp.agent_id
         WHERE e.org_id = o.id AND e.sip = %(ext)s),
       EXISTS (SELECT 1 FROM statuses s
                WHERE s.org_id = o.id AND s.status_id = %(status)s AND s.enabled),
       (SELECT s.limit_seconds FROM statuses s
         WHERE s.org_id = o.id AND s.status_id = %(status)s AND s.enabled),
       (SELECT w.due_ms FROM wrap_ups w WHERE w.agent_id = a.id AND w.version = p.version)
FROM organisations o
LEFT JOIN agents a ON a.org_id = o.id AND a.user_id = %(user)s
LEFT JOIN presence p ON p.agent_id = a.id
WHERE {org_filter}
"""
FACTS_BY_CODE = _FACTS.format(org_filter="o.code_hash = %(code)s")
FACTS_BY_ORG = _FACTS.format(org_filter="o.id = %(org)s")

# The presence update comes first and the event is appended from it (the event log's
# ordering rule, storage.event_log). No row is written, and no id used up, when the
# presence row changed since the facts were read.
WRITE = f"""
WITH moved AS (
    UPDATE presence SET extension_id = %(ext_id)s, status = %(new_status)s, since_ms = %(at)s,
                        version = version + 1
    WHERE agent_id = %(agent)s AND version = %(seen_version)s
      AND (%(wrap_up_due)s::bigint IS NULL OR EXISTS (
        -- A wrap-up's end, only if a call's end did not restart it since the facts were
        -- read; FOR SHARE waits for a restart being written, then sees its due.
        SELECT 1 FROM wrap_ups w
        WHERE w.agent_id = %(agent)s AND w.version = %(seen_version)s
          AND w.due_ms = %(wrap_up_due)s::bigint
        FOR SHARE))
    RETURNING agent_id
), plan AS (
    INSERT INTO deadlines (org_id, agent_id, kind, status, version, due_ms, claimed_until_ms)
    SELECT %(org)s, moved.agent_id, 'limit', %(new_status)s, %(seen_version)s + 1,
           %(deadline)s::bigint, 0
    FROM moved
    WHERE %(deadline)s::bigint IS NOT NULL
), {postgres_append("moved")}
SELECT id FROM event
"""

# A lost race for an extension, settled by PostgreSQL aborting one side.
_RACE_ERRORS = (pg_errors.UniqueViolation, pg_errors.DeadlockDetected)

_Connection = psycopg.AsyncConnection[tuple[object, ...]]


def _matchable(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL, so a value with one names no agent or extension:
    it is looked up as NULL, which matches no row, instead of failing the query."""
    return None if value is None or "\x00" in value else value


async def _read_facts(conn: _Connection, step: ReadFacts) -> AgentFacts | None:
    cmd = step.command
    status = cmd.status if cmd.status is not None and cmd.status <= _INT4_MAX else -1
    params = {
        "code": cmd.code_hash,
        "org": cmd.org_id,
        "user": _matchable(cmd.user_id),
        "ext": _matchable(cmd.extension),
        "status": status,
    }
    cur = await conn.execute(FACTS_BY_CODE if cmd.org_id is None else FACTS_BY_ORG, params)
    found = await cur.fetchone()
    if found is None:
        return None
    (
        org_id,
        allowlist,
        agent_id,
        active,
        status_now,
        version,
        ext,
        ext_id,
        holder,
        enabled,
        limit,
        wrap_up_due,
    ) = cast(_FactsRow, found)
    return AgentFacts(
        org_id=org_id,
        allowlist=allowlist,
        agent_id=agent_id,
        agent_active=bool(active),
        status=LOGOUT if status_now is None else status_now,
        extension=ext,
        version=version or 0,
        requested_extension_id=ext_id,
        extension_holder=holder,
        status_enabled=bool(enabled),
        status_limit_seconds=limit,
        wrap_up_due_ms=wrap_up_due,
    )


async def _write(conn: _Connection, w: WriteChange) -> int | WriteRefused:
    try:
        cur = await conn.execute(
            WRITE,
            {
                "ext_id": w.new_extension_id,
                "new_status": w.change.new.status,
                "at": w.at_ms,
                "agent": w.agent_id,
                "seen_version": w.seen_version,
                "org": w.org_id,
                "deadline": w.deadline_ms,
                "wrap_up_due": w.wrap_up_due_ms,
                **postgres_parameters(w.event()),
            },
        )
    except _RACE_ERRORS:
        return WriteRefused.EXTENSION_TAKEN
    except pg_errors.ForeignKeyViolation:
        # The extension was removed since the facts were read: decide again.
        return WriteRefused.CONFLICT
    inserted = await cur.fetchone()
    return WriteRefused.CONFLICT if inserted is None else cast(int, inserted[0])


async def _answer(conn: _Connection, step: Step) -> Reply:
    if isinstance(step, ReadFacts):
        return await _read_facts(conn, step)
    if isinstance(step, WriteChange):
        return await _write(conn, step)
    await write_audit_postgres(conn, AuditRow.of(step))
    return None


class PostgresStatusStore:
    """Status store on PostgreSQL, through a pool of psycopg 3 async connections."""

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 2,
        max_size: int = 20,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._timeout = timeout_seconds
        self._abandoned: set[asyncio.Future[StatusResult]] = set()
        timeout_ms = int(timeout_seconds * 1000)
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout_seconds,
            kwargs={
                # Each statement is its own transaction: the facts' read, the change's write (one
                # statement, WRITE), the audit entry.
                "autocommit": True,
                "options": f"-c statement_timeout={timeout_ms} "
                f"-c idle_in_transaction_session_timeout={timeout_ms}",
                "connect_timeout": max(1, round(timeout_seconds)),
                # A database that vanishes without closing the connection (a cut cable, a
                # dead proxy) is noticed by the kernel instead of waiting forever.
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
                "tcp_user_timeout": timeout_ms,
            },
        )

    async def start(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> bool:
        async def check() -> None:
            async with self._pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")

        try:
            await asyncio.wait_for(check(), 2)
        except Exception:
            return False
        return True

    async def run(self, steps: Callable[[], Steps]) -> StatusResult:
        """Row 11 within ``timeout_seconds`` at the latest, whatever the database does.

        A transaction cut short is rolled back by PostgreSQL, so nothing is half-applied;
        a client that retries (the change is idempotent) gets the right answer.
        """
        task = asyncio.ensure_future(self._run_pooled(steps()))
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            # Answer now; the task's own clean-up (a rollback on a dead socket) may take
            # longer than the caller should wait, so it finishes in the background.
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            log.warning("status change failed: the database did not answer in time")
            return StatusResult(Row.UPDATE_FAILED)
        try:
            return task.result()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            log.warning(
                "status change failed: the database is unavailable (%s)", type(exc).__name__
            )
        except Exception:
            log.exception("status change failed")
        return StatusResult(Row.UPDATE_FAILED)

    async def _run_pooled(self, steps: Steps) -> StatusResult:
        async with self._pool.connection() as conn:
            return await drive_async(steps, lambda step: _answer(conn, step))
