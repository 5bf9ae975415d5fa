"""The SQLite status engine: one writer thread that group-commits concurrent requests.

The requests waiting when the thread is free share one ``BEGIN IMMEDIATE`` transaction,
so one fsync (``synchronous=FULL``) makes a whole batch durable before any of its
answers is sent. ``BEGIN IMMEDIATE`` also serialises writers of other processes on the
same file, so the invariants hold across any number of servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import StatusCommand, StatusResult
from agentstatus.domain.decision import Facts, Presence, decide
from agentstatus.domain.event_types import event_type
from agentstatus.storage.database import configure_sqlite_connection
from agentstatus.storage.outbox import SQLITE_ENQUEUE
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

MAX_BATCH = 512

# Everything the outcomes table asks about, in one statement: the organisation, the agent
# and where it is, the requested extension and who holds it, and whether the requested
# status is enabled. Every join is on a unique key, so there is at most one row.
_FACTS = """
SELECT o.id, o.allowlist, a.id, p.status, pe.sip, re.id, ra.user_id, s.status_id
FROM organisations o
LEFT JOIN agents a ON a.org_id = o.id AND a.user_id = :user AND a.active
LEFT JOIN presence p ON p.agent_id = a.id
LEFT JOIN extensions pe ON pe.id = p.extension_id
LEFT JOIN extensions re ON re.org_id = o.id AND re.sip = :ext
LEFT JOIN presence rp ON rp.extension_id = re.id
LEFT JOIN agents ra ON ra.id = rp.agent_id
LEFT JOIN statuses s ON s.org_id = o.id AND s.status_id = :status AND s.enabled
WHERE {org_filter}
"""
_FACTS_BY_CODE = _FACTS.format(org_filter="o.code_hash = :code")
_FACTS_BY_ORG = _FACTS.format(org_filter="o.id = :org")
_UPDATE_PRESENCE = (
    "UPDATE presence SET extension_id = ?, status = ?, since_ms = ? WHERE agent_id = ?"
)
_INSERT_HISTORY = """
INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                     prev_status, new_status, at_ms, source, client_addr)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_AUDIT = """
INSERT INTO audit (org_id, user_id, outcome_row, endpoint, source, client_addr, at_ms)
VALUES (?, ?, ?, 'SetStatusFromAPI', ?, ?, ?)
"""

_SQLITE_MAX_INT = 2**63 - 1


def open_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    configure_sqlite_connection(conn)
    return conn


def _apply_one(conn: sqlite3.Connection, cmd: StatusCommand) -> StatusResult:
    at = now_ms()
    status = cmd.status if cmd.status is not None and cmd.status <= _SQLITE_MAX_INT else None
    params = {
        "code": cmd.code_hash,
        "org": cmd.org_id,
        "user": cmd.user_id,
        "ext": cmd.extension,
        "status": -1 if status is None else status,
    }
    found = conn.execute(_FACTS_BY_CODE if cmd.org_id is None else _FACTS_BY_ORG, params)
    row = found.fetchone()
    if row is None:
        conn.execute(_INSERT_AUDIT, (None, cmd.user_id, 6, cmd.source, cmd.client_addr, at))
        return StatusResult(Row.AUTHENTICATION_FAILED)
    org_id, allowlist, agent_id, current_status, current_ext, extension_id, holder, enabled = row
    if agent_id is None:
        conn.execute(_INSERT_AUDIT, (org_id, cmd.user_id, 6, cmd.source, cmd.client_addr, at))
        return StatusResult(Row.AUTHENTICATION_FAILED, org_id)
    extension_exists = None if cmd.extension is None else extension_id is not None
    status_enabled = status is not None and enabled is not None
    current = Presence(current_ext, current_status)
    facts = Facts(
        agent_active=True,
        address_allowed=cmd.code_hash is None or address_allowed(allowlist, cmd.client_addr),
        extension_exists=extension_exists,
        status_enabled=status_enabled,
        current=current,
        extension_holder=holder,
    )
    decision = decide(facts, cmd.user_id, cmd.extension, cmd.status)
    if decision.row is not Row.OK:
        conn.execute(
            _INSERT_AUDIT, (org_id, cmd.user_id, decision.row, cmd.source, cmd.client_addr, at)
        )
        return StatusResult(decision.row, org_id)
    change = decision.change
    if change is None:
        return StatusResult(Row.OK, org_id)
    new_ext_id = extension_id if change.new.extension is not None else None
    conn.execute(_UPDATE_PRESENCE, (new_ext_id, change.new.status, at, agent_id))
    cur = conn.execute(
        _INSERT_HISTORY,
        (
            org_id,
            agent_id,
            cmd.user_id,
            change.previous.extension,
            change.new.extension,
            change.previous.status,
            change.new.status,
            at,
            cmd.source,
            cmd.client_addr,
        ),
    )
    history_id = cur.lastrowid
    kind = event_type(change.previous.status, change.new.status)
    conn.execute(SQLITE_ENQUEUE, (history_id, kind, at, org_id))
    return StatusResult(Row.OK, org_id, change, history_id, at)


def apply_batch(conn: sqlite3.Connection, commands: Sequence[StatusCommand]) -> list[StatusResult]:
    """Apply commands in one transaction and commit once.

    Should one of them fail unexpectedly, the whole batch is rolled back and each command
    is applied again in a transaction of its own, so only the faulty one answers row 11.
    """
    failed = StatusResult(Row.UPDATE_FAILED)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        log.exception("could not begin a write transaction")
        return [failed] * len(commands)
    try:
        results = [_apply_one(conn, cmd) for cmd in commands]
        conn.execute("COMMIT")
    except Exception:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if len(commands) == 1:
            log.exception("a status change failed; nothing was applied")
            return [failed]
        log.warning("a batch of %d status changes failed; applying them one by one", len(commands))
        return [apply_batch(conn, [cmd])[0] for cmd in commands]
    return results


_Job = tuple[StatusCommand, "asyncio.Future[StatusResult]", asyncio.AbstractEventLoop]
_STOP = None


def _resolve(jobs: list[_Job], results: list[StatusResult]) -> None:
    for (_cmd, future, _loop), result in zip(jobs, results, strict=True):
        if not future.done():
            future.set_result(result)


class SqliteStatusStore:
    """Status store on one SQLite file, group-committed by a dedicated writer thread."""

    def __init__(self, path: Path, *, max_batch: int = MAX_BATCH) -> None:
        self._path = path
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.commands = 0

    async def start(self) -> None:
        if self._thread is None:
            conn = open_connection(self._path)
            self._thread = threading.Thread(
                target=self._run, args=(conn,), name="sqlite-status-writer", daemon=True
            )
            self._thread.start()

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(thread.join)

    async def apply(self, command: StatusCommand) -> StatusResult:
        if self._thread is None:
            raise RuntimeError("the status store is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StatusResult] = loop.create_future()
        self._queue.put((command, future, loop))
        return await future

    async def ping(self) -> bool:
        def check() -> bool:
            try:
                with open_connection(self._path) as conn:
                    conn.execute("SELECT 1 FROM organisations LIMIT 1").fetchall()
            except sqlite3.Error:
                return False
            return True

        return await asyncio.to_thread(check)

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                jobs = [first]
                stop = False
                while len(jobs) < self._max_batch:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        stop = True
                        break
                    jobs.append(job)
                results = apply_batch(conn, [job[0] for job in jobs])
                self.batches += 1
                self.commands += len(jobs)
                by_loop: dict[asyncio.AbstractEventLoop, tuple[list[_Job], list[StatusResult]]] = {}
                for job, result in zip(jobs, results, strict=True):
                    pair = by_loop.setdefault(job[2], ([], []))
                    pair[0].append(job)
                    pair[1].append(result)
                for loop, (loop_jobs, loop_results) in by_loop.items():
                    # A closed loop means nobody is waiting for these answers any more.
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_resolve, loop_jobs, loop_results)
                if stop:
                    return
        finally:
            conn.close()
