"""The PostgreSQL status engine: two statements per change, no transaction block.

The facts are read in one statement; the change is written in another, which updates the
agent's presence row only if it is still what the facts said (compare and set) and
appends the history and outbox rows in the same statement, so each is its own
transaction and commits without a BEGIN or COMMIT round trip. If another request changed
the agent in between, the write matches no row and the request is decided again on fresh
facts. Two agents racing for one extension are settled by the unique index on
``presence.extension_id``: the loser's write fails and it is answered "Extension is
already in use". PostgreSQL's own group commit batches the fsyncs of concurrent
transactions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import StatusCommand, StatusResult
from agentstatus.domain.decision import Facts, Presence, decide
from agentstatus.domain.event_types import event_type
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

_INT4_MAX = 2**31 - 1

# org id, allow-list, agent id, status, its extension's id and name, requested extension
# id, its holder, requested status enabled
_FactsRow = tuple[int, str | None, int, int, int | None, str | None, int | None, str | None, bool]

_FACTS_BY_CODE = """
SELECT o.id, o.allowlist, a.id, p.status, p.extension_id,
       (SELECT sip FROM extensions WHERE id = p.extension_id),
       (SELECT e.id FROM extensions e WHERE e.org_id = o.id AND e.sip = %(ext)s),
       (SELECT ha.user_id FROM extensions e
          JOIN presence hp ON hp.extension_id = e.id
          JOIN agents ha ON ha.id = hp.agent_id
         WHERE e.org_id = o.id AND e.sip = %(ext)s),
       EXISTS (SELECT 1 FROM statuses s
                WHERE s.org_id = o.id AND s.status_id = %(status)s AND s.enabled)
FROM organisations o
JOIN agents a ON a.org_id = o.id AND a.user_id = %(user)s AND a.active
JOIN presence p ON p.agent_id = a.id
WHERE {org_filter}
"""
FACTS_BY_CODE = _FACTS_BY_CODE.format(org_filter="o.code_hash = %(code)s")
FACTS_BY_ORG = _FACTS_BY_CODE.format(org_filter="o.id = %(org)s")

# The presence update comes first and the history insert reads from it, so the
# transaction has its xid before the history row draws its id (the event stream's
# commit-order guard relies on that; see events.feed). No row is written, and no id used up,
# when the presence row changed since the facts were read.
WRITE = """
WITH moved AS (
    UPDATE presence SET extension_id = %(ext_id)s, status = %(new_status)s, since_ms = %(at)s
    WHERE agent_id = %(agent)s AND status = %(seen_status)s
      AND extension_id IS NOT DISTINCT FROM %(seen_ext_id)s::bigint
    RETURNING agent_id
), event AS (
    INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                         prev_status, new_status, at_ms, source, client_addr)
    SELECT %(org)s, moved.agent_id, %(user)s, %(prev_ext)s, %(new_ext)s,
           %(prev_status)s, %(new_status)s, %(at)s, %(source)s, %(addr)s
    FROM moved
    RETURNING id
), outbox AS (
    INSERT INTO webhook_deliveries (endpoint_id, history_id, event_type, state, attempts,
                                    next_attempt_ms, created_ms)
    SELECT w.id, event.id, %(event_type)s::text, 'pending', 0, %(at)s, %(at)s
    FROM webhook_endpoints w, event
    WHERE w.org_id = %(org)s AND w.enabled
      AND (w.events = '*'
           OR position(',' || %(event_type)s::text || ',' IN ',' || w.events || ',') > 0)
)
SELECT id FROM event
"""

# How many times a request is decided again when its agent keeps changing under it.
_ATTEMPTS = 20

AUDIT = """
INSERT INTO audit (org_id, user_id, outcome_row, endpoint, source, client_addr, at_ms)
VALUES (COALESCE(%(org)s, (SELECT id FROM organisations WHERE code_hash = %(code)s)),
        %(user)s, %(row)s, 'SetStatusFromAPI', %(source)s, %(addr)s, %(at)s)
"""

# A lost race that PostgreSQL settles by aborting one side: answered as the loser.
_RACE_ERRORS = (pg_errors.UniqueViolation, pg_errors.DeadlockDetected)

_MAX_USER_ID = 128  # audit.user_id is VARCHAR(128)


def _matchable(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL, so a value with one names no agent or extension:
    it is looked up as NULL, which matches no row, instead of failing the query."""
    return None if value is None or "\x00" in value else value


def _auditable(user_id: str) -> str:
    """A user id as the audit log can hold it (it may name no agent at all)."""
    return user_id.replace("\x00", "")[:_MAX_USER_ID]


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
                "autocommit": True,  # transactions are the explicit conn.transaction() blocks
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

    async def apply(self, command: StatusCommand) -> StatusResult:
        """Row 11 within ``timeout_seconds`` at the latest, whatever the database does.

        A transaction cut short is rolled back by PostgreSQL, so nothing is half-applied;
        a client that retries (the change is idempotent) gets the right answer.
        """
        task = asyncio.ensure_future(self._apply_pooled(command))
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

    async def _apply_pooled(self, command: StatusCommand) -> StatusResult:
        async with self._pool.connection() as conn:
            try:
                result = await self._apply(conn, command)
            except _RACE_ERRORS:
                result = StatusResult(Row.EXTENSION_IN_USE, command.org_id)
            if result.row is not Row.OK:
                await self._audit(conn, command, result)
            return result

    async def _apply(
        self, conn: psycopg.AsyncConnection[tuple[object, ...]], cmd: StatusCommand
    ) -> StatusResult:
        status = cmd.status if cmd.status is not None and cmd.status <= _INT4_MAX else None
        params = {
            "code": cmd.code_hash,
            "org": cmd.org_id,
            "user": _matchable(cmd.user_id),
            "ext": _matchable(cmd.extension),
            "status": status if status is not None else -1,
        }
        facts_query = FACTS_BY_CODE if cmd.org_id is None else FACTS_BY_ORG
        for _ in range(_ATTEMPTS):
            cur = await conn.execute(facts_query, params)
            found = await cur.fetchone()
            if found is None:
                return StatusResult(Row.AUTHENTICATION_FAILED, cmd.org_id)
            result = await self._decide_and_write(conn, cmd, status, cast(_FactsRow, found))
            if result is not None:
                return result
        log.warning("status change failed: the agent kept changing under it")
        return StatusResult(Row.UPDATE_FAILED, cmd.org_id)

    async def _decide_and_write(
        self,
        conn: psycopg.AsyncConnection[tuple[object, ...]],
        cmd: StatusCommand,
        status: int | None,
        found: _FactsRow,
    ) -> StatusResult | None:
        """The answer, or None when the agent changed since ``found`` was read."""
        (
            org_id,
            allowlist,
            agent_id,
            current_status,
            current_ext_id,
            current_ext,
            ext_id,
            holder,
            enabled,
        ) = found
        current = Presence(current_ext, current_status)
        facts = Facts(
            agent_active=True,
            address_allowed=cmd.code_hash is None or address_allowed(allowlist, cmd.client_addr),
            extension_exists=None if cmd.extension is None else ext_id is not None,
            status_enabled=status is not None and bool(enabled),
            current=current,
            extension_holder=holder,
        )
        decision = decide(facts, cmd.user_id, cmd.extension, status)
        change = decision.change
        if decision.row is not Row.OK or change is None:
            return StatusResult(decision.row, org_id)
        at = now_ms()
        cur = await conn.execute(
            WRITE,
            {
                "ext_id": ext_id if change.new.extension is not None else None,
                "new_status": change.new.status,
                "at": at,
                "agent": agent_id,
                "seen_status": current_status,
                "seen_ext_id": current_ext_id,
                "org": org_id,
                "user": cmd.user_id,
                "prev_ext": change.previous.extension,
                "new_ext": change.new.extension,
                "prev_status": change.previous.status,
                "source": cmd.source.value,
                "addr": cmd.client_addr,
                "event_type": event_type(change.previous.status, change.new.status),
            },
        )
        inserted = await cur.fetchone()
        if inserted is None:
            return None
        return StatusResult(Row.OK, org_id, change, cast(int, inserted[0]), at)

    async def _audit(
        self,
        conn: psycopg.AsyncConnection[tuple[object, ...]],
        cmd: StatusCommand,
        result: StatusResult,
    ) -> None:
        await conn.execute(
            AUDIT,
            {
                "org": result.org_id,
                "code": cmd.code_hash,
                "user": _auditable(cmd.user_id),
                "row": int(result.row),
                "source": cmd.source.value,
                "addr": cmd.client_addr,
                "at": now_ms(),
            },
        )
