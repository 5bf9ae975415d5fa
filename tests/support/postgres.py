"""Fresh PostgreSQL databases for tests, cloned from a migrated template (fast).

Tests that need PostgreSQL skip when it is not reachable — except in CI (``CI=true``),
where a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading

import psycopg
import pytest
from sqlalchemy.engine import make_url

from agentstatus.app import open_database

ADMIN_URL = os.environ.get(
    "AGENTSTATUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_TEMPLATE = f"agentstatus_template_{os.getpid()}"
_counter = itertools.count(1)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


def _url_for(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def require_postgres() -> None:
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {make_url(ADMIN_URL).host}: {exc}")


class PostgresDatabases:
    """Creates the migrated template once, then one database per test from it.

    A test's database is dropped in the background when the test ends (``release``), the
    others at the session's end. PostgreSQL 15's DROP DATABASE waits for a checkpoint:
    0.05 s on an idle server, up to seconds under the suite's load; all dropped at the end,
    a worker's hundred-odd databases made the run's tail up to 14 s longer."""

    def __init__(self) -> None:
        self._template_ready = False
        self._created: list[str] = []
        self._released: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper: threading.Thread | None = None

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"')
            conn.execute(f'CREATE DATABASE "{_TEMPLATE}"')
        engine = open_database(_url_for(_TEMPLATE))
        engine.dispose()
        self._template_ready = True

    def create(self) -> str:
        require_postgres()
        self._ensure_template()
        name = f"agentstatus_t{os.getpid()}_{next(_counter)}"
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"')
        self._created.append(name)
        return _url_for(name)

    def release(self, url: str) -> None:
        """The test using ``url`` has ended: its database is dropped in the background."""
        name = make_url(url).database
        if name not in self._created:
            return
        self._created.remove(name)
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_released, daemon=True)
            self._dropper.start()
        self._released.put(name)

    def _drop_released(self) -> None:
        while (name := self._released.get()) is not None:
            # A failed drop leaves a database behind; the next run's names differ.
            with contextlib.suppress(psycopg.Error), _admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        if self._dropper is not None:
            self._released.put(None)
            self._dropper.join()
            self._dropper = None
        if not self._created and not self._template_ready:
            return
        with _admin() as conn:
            for name in [*self._created, _TEMPLATE]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()
        self._template_ready = False


def fresh_empty_database(databases: PostgresDatabases) -> str:
    """A database with no schema at all (not cloned from the migrated template)."""
    require_postgres()
    name = f"agentstatus_empty{os.getpid()}_{next(_counter)}"
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    databases._created.append(name)
    return _url_for(name)
