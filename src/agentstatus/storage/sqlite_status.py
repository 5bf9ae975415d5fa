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
from collections.abc import Callable, Sequence
from pathlib import Path

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import StatusCommand, StatusResult
from agentstatus.domain.integers import INT64_MAX
from agentstatus.storage.audit import AuditRow, write_audit_sqlite
from agentstatus.storage.database import SQLITE_BUSY_TIMEOUT_MS, configure_sqlite_connection
from agentstatus.storage.event_log import append_sqlite
from agentstatus.storage.protocol import (
    AgentFacts,
    ReadFacts,
    Reply,
    Step,
    Steps,
    WriteChange,
    WriteRefused,
    drive,
)
from agentstatus.storage.write_turns import turn_of
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

MAX_BATCH = 512

# Everything the outcomes table asks about, in one statement: the organisation, the agent
# and where it is, the requested extension and who holds it, and whether the requested
# status is enabled. Every join is on a unique key, so there is at most one row.
_FACTS = """
SELECT o.id, o.allowlist, a.id, a.active, p.status, pe.sip, p.version, re.id, ra.user_id,
       s.status_id, s.limit_seconds, w.due_ms
FROM organisations o
LEFT JOIN agents a ON a.org_id = o.id AND a.user_id = :user
LEFT JOIN presence p ON p.agent_id = a.id
LEFT JOIN extensions pe ON pe.id = p.extension_id
LEFT JOIN extensions re ON re.org_id = o.id AND re.sip = :ext
LEFT JOIN presence rp ON rp.extension_id = re.id
LEFT JOIN agents ra ON ra.id = rp.agent_id
LEFT JOIN statuses s ON s.org_id = o.id AND s.status_id = :status AND s.enabled
LEFT JOIN wrap_ups w ON w.agent_id = a.id AND w.version = p.version
WHERE {org_filter}
"""
_FACTS_BY_CODE = _FACTS.format(org_filter="o.code_hash = :code")
_FACTS_BY_ORG = _FACTS.format(org_filter="o.id = :org")
_UPDATE_PRESENCE = """
UPDATE presence SET extension_id = ?, status = ?, since_ms = ?, version = version + 1
WHERE agent_id = ? AND version = ?
"""
_PLAN_LIMIT = """
INSERT INTO deadlines (org_id, agent_id, kind, status, version, due_ms, claimed_until_ms)
VALUES (?, ?, 'limit', ?, ?, ?, 0)
"""

_SQLITE_MAX_INT = INT64_MAX


def open_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    configure_sqlite_connection(conn)
    return conn


def _read_facts(conn: sqlite3.Connection, cmd: StatusCommand) -> AgentFacts | None:
    status = cmd.status if cmd.status is not None and cmd.status <= _SQLITE_MAX_INT else -1
    params = {
        "code": cmd.code_hash,
        "org": cmd.org_id,
        "user": cmd.user_id,
        "ext": cmd.extension,
        "status": status,
    }
    found = conn.execute(_FACTS_BY_CODE if cmd.org_id is None else _FACTS_BY_ORG, params)
    row = found.fetchone()
    if row is None:
        return None
    (
        org_id,
        allowlist,
        agent_id,
        active,
        status_now,
        ext,
        version,
        ext_id,
        holder,
        enabled,
        limit,
        wrap_up_due,
    ) = row
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
        status_enabled=enabled is not None,
        status_limit_seconds=limit,
        wrap_up_due_ms=wrap_up_due,
    )


def _write(conn: sqlite3.Connection, w: WriteChange) -> int | WriteRefused:
    new = w.change.new
    moved = conn.execute(
        _UPDATE_PRESENCE, (w.new_extension_id, new.status, w.at_ms, w.agent_id, w.seen_version)
    )
    if moved.rowcount == 0:
        return WriteRefused.CONFLICT
    history_id = append_sqlite(conn, w.event())
    if w.deadline_ms is not None:
        conn.execute(
            _PLAN_LIMIT, (w.org_id, w.agent_id, new.status, w.seen_version + 1, w.deadline_ms)
        )
    return history_id


def _answer(conn: sqlite3.Connection, step: Step) -> Reply:
    """One storage step, inside the batch's transaction (which holds the write lock, so
    nothing changes between the facts and the write)."""
    if isinstance(step, ReadFacts):
        return _read_facts(conn, step.command)
    if isinstance(step, WriteChange):
        return _write(conn, step)
    write_audit_sqlite(conn, AuditRow.of(step))
    return None


def apply_batch(
    conn: sqlite3.Connection, changes: Sequence[Callable[[], Steps]]
) -> list[StatusResult]:
    """Run changes in one transaction and commit once.

    Should one of them fail unexpectedly, the whole batch is rolled back and each change
    is run again in a transaction of its own, so only the faulty one answers row 11.
    """
    failed = StatusResult(Row.UPDATE_FAILED)
    turn = turn_of(_path_of(conn))
    taken = turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)  # see write_turns.py
    try:
        return _in_transaction(conn, changes, failed)
    finally:
        if taken:
            turn.release()


def _path_of(conn: sqlite3.Connection) -> Path:
    """The file of the connection's main database."""
    return Path(conn.execute("PRAGMA database_list").fetchone()[2])


def _in_transaction(
    conn: sqlite3.Connection, changes: Sequence[Callable[[], Steps]], failed: StatusResult
) -> list[StatusResult]:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        log.exception("could not begin a write transaction")
        return [failed] * len(changes)
    try:
        results = [drive(steps(), lambda step: _answer(conn, step)) for steps in changes]
        conn.execute("COMMIT")
    except Exception:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if len(changes) == 1:
            log.exception("a status change failed; nothing was applied")
            return [failed]
        log.warning("a batch of %d status changes failed; applying them one by one", len(changes))
        return [_in_transaction(conn, [steps], failed)[0] for steps in changes]
    return results


_Job = tuple[Callable[[], Steps], "asyncio.Future[StatusResult]", asyncio.AbstractEventLoop]
_STOP = None


def _resolve(jobs: list[_Job], results: list[StatusResult]) -> None:
    for (_steps, future, _loop), result in zip(jobs, results, strict=True):
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

    async def run(self, steps: Callable[[], Steps]) -> StatusResult:
        if self._thread is None:
            raise RuntimeError("the status store is not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StatusResult] = loop.create_future()
        self._queue.put((steps, future, loop))
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
