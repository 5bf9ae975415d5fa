"""Benchmark data sets: one organisation, ``n`` agents, ``n`` extensions, everybody logged out,
and optionally a long history.

The schema comes from the migrations (``open_database``) and the organisation, with its
status catalogue, from ``create_organisation``; agents, extensions and presence rows are
bulk-inserted directly, exactly as the services would leave them. Agent ``i`` (1-based) has
user id ``USER_BASE + i``, extension ``sip{USER_BASE + i}``, and row id ``i`` in both tables.

The history of the scale test is generated inside the database (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL): ``rows`` events spread evenly over ``days`` days ending
now, agent after agent, each agent walking the shift Login, Lunch, Login, Training, Login,
Logout at its own extension, so every agent has ``rows / n`` events about
``days * 24 / (rows / n)`` hours apart.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg

from agentstatus.service.organisations import create_organisation
from agentstatus.storage.migrate import open_database

ORG = "bench"
CODE = "bench-code-5b1f0c2e"
USER_BASE = 100_000
DAY_MS = 24 * 3600 * 1000
SHIFT = (1, 3, 1, 11, 1, 2)  # Login, Lunch break, Login, Training, Login, Logout
LOGOUT = 2


def _now_ms() -> int:
    return int(time.time() * 1000)


def _create_schema_and_org(url: str) -> None:
    engine = open_database(url)
    try:
        create_organisation(engine, ORG, code=CODE)
    finally:
        engine.dispose()


def _shift_case(step: str, postgres: bool = False) -> str:
    """SQL for the status of shift step ``step`` (an integer expression)."""
    whens = " ".join(f"WHEN {i} THEN {s}" for i, s in enumerate(SHIFT))
    # psycopg reads "%" as a placeholder: PostgreSQL gets mod() instead.
    case = f"mod({step}, {len(SHIFT)})" if postgres else f"({step}) % {len(SHIFT)}"
    return f"CASE {case} {whens} END"


def build_sqlite(path: Path, agents: int, history_rows: int = 0, days: int = 30) -> None:
    """A fresh SQLite database at ``path`` (which must not exist yet)."""
    _create_schema_and_org(f"sqlite:///{path}")
    created = _now_ms() - (days + 1) * DAY_MS
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A bulk load: nothing here needs to survive a power cut.
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        (org_id,) = conn.execute("SELECT id FROM organisations WHERE name = ?", (ORG,)).fetchone()
        conn.execute("BEGIN")
        users = range(1, agents + 1)
        conn.executemany(
            "INSERT INTO agents (id, org_id, user_id, name, active, created_ms)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            ((i, org_id, str(USER_BASE + i), f"Agent {i}", created) for i in users),
        )
        conn.executemany(
            "INSERT INTO extensions (id, org_id, sip, name, created_ms) VALUES (?, ?, ?, ?, ?)",
            ((i, org_id, f"sip{USER_BASE + i}", f"Desk {i}", created) for i in users),
        )
        conn.executemany(
            "INSERT INTO presence (agent_id, org_id, extension_id, status, since_ms)"
            " VALUES (?, ?, NULL, ?, ?)",
            ((i, org_id, LOGOUT, created) for i in users),
        )
        conn.execute("COMMIT")
        if history_rows:
            _sqlite_history(conn, org_id, agents, history_rows, days)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _sqlite_history(
    conn: sqlite3.Connection, org_id: int, agents: int, rows: int, days: int
) -> None:
    end = _now_ms() - 60_000
    span = days * DAY_MS
    # Indexes are dropped and re-created: sorting once is much faster than keeping two
    # B-trees up to date through ten million inserts in agent order.
    indexes = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'history'"
        " AND sql IS NOT NULL"
    ).fetchall()
    conn.execute("BEGIN")
    for (sql,) in indexes:
        name = sql.split()[2]
        conn.execute(f"DROP INDEX {name}")
    agent = f"(n % {agents}) + 1"
    step = f"(n / {agents})"
    conn.execute(
        f"""
        WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
        INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                             prev_status, new_status, at_ms, source, client_addr, kind)
        SELECT ?, {agent}, CAST({USER_BASE} + {agent} AS TEXT),
               CASE WHEN {step} = 0 OR {_shift_case(f"{step} - 1")} = {LOGOUT} THEN NULL
                    ELSE 'sip' || ({USER_BASE} + {agent}) END,
               CASE WHEN {_shift_case(step)} = {LOGOUT} THEN NULL
                    ELSE 'sip' || ({USER_BASE} + {agent}) END,
               CASE WHEN {step} = 0 THEN {LOGOUT} ELSE {_shift_case(f"{step} - 1")} END,
               {_shift_case(step)},
               ? + n * ? / ?,
               CASE WHEN {step} % 2 THEN 'POST' ELSE 'GET' END,
               '10.0.' || (n % 250) || '.' || (n % 200),
               CASE WHEN {_shift_case(step)} = {LOGOUT} THEN 'agent.logout'
                    WHEN {step} = 0 OR {_shift_case(f"{step} - 1")} = {LOGOUT} THEN 'agent.login'
                    ELSE 'agent.status' END
        FROM seq
        """,
        (rows - 1, org_id, end - span, span, rows),
    )
    for (sql,) in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


def build_postgres(url: str, agents: int, history_rows: int = 0, days: int = 30) -> None:
    """Schema, organisation and data on the (empty) PostgreSQL database at ``url``."""
    _create_schema_and_org(url)
    created = _now_ms() - (days + 1) * DAY_MS
    with psycopg.connect(url, autocommit=False) as conn:
        row = conn.execute("SELECT id FROM organisations WHERE name = %s", (ORG,)).fetchone()
        assert row is not None
        org_id = row[0]
        conn.execute(
            "INSERT INTO agents (id, org_id, user_id, name, active, created_ms)"
            " SELECT i, %s, (%s + i)::text, 'Agent ' || i, true, %s"
            " FROM generate_series(1, %s) i",
            (org_id, USER_BASE, created, agents),
        )
        conn.execute(
            "INSERT INTO extensions (id, org_id, sip, name, created_ms)"
            " SELECT i, %s, 'sip' || (%s + i), 'Desk ' || i, %s FROM generate_series(1, %s) i",
            (org_id, USER_BASE, created, agents),
        )
        conn.execute(
            "INSERT INTO presence (agent_id, org_id, extension_id, status, since_ms)"
            " SELECT i, %s, NULL, %s, %s FROM generate_series(1, %s) i",
            (org_id, LOGOUT, created, agents),
        )
        # The ids were given explicitly: move the sequences past them.
        for table in ("agents", "extensions"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",
                (agents,),
            )
        if history_rows:
            _postgres_history(conn, org_id, agents, history_rows, days)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _postgres_history(
    conn: psycopg.Connection[tuple[object, ...]], org_id: int, agents: int, rows: int, days: int
) -> None:
    end = _now_ms() - 60_000
    span = days * DAY_MS
    agent = f"mod(n, {agents}) + 1"
    step = f"(n / {agents})"
    conn.execute(
        f"""
        INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                             prev_status, new_status, at_ms, source, client_addr, kind)
        SELECT %s, {agent}, ({USER_BASE} + {agent})::text,
               CASE WHEN {step} = 0 OR {_shift_case(f"{step} - 1", True)} = {LOGOUT} THEN NULL
                    ELSE 'sip' || ({USER_BASE} + {agent}) END,
               CASE WHEN {_shift_case(step, True)} = {LOGOUT} THEN NULL
                    ELSE 'sip' || ({USER_BASE} + {agent}) END,
               CASE WHEN {step} = 0 THEN {LOGOUT} ELSE {_shift_case(f"{step} - 1", True)} END,
               {_shift_case(step, True)},
               %s + n * %s / %s,
               CASE WHEN mod({step}, 2) = 1 THEN 'POST' ELSE 'GET' END,
               '10.0.' || mod(n, 250) || '.' || mod(n, 200),
               CASE WHEN {_shift_case(step, True)} = {LOGOUT} THEN 'agent.logout'
                    WHEN {step} = 0 OR {_shift_case(f"{step} - 1", True)} = {LOGOUT}
                    THEN 'agent.login' ELSE 'agent.status' END
        FROM generate_series(0, %s - 1::bigint) n
        """,
        (org_id, end - span, span, rows, rows),
    )
