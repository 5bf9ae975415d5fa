"""Migrations: from empty to head on both engines, and safe when servers start together."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from agentstatus.storage.migrate import alembic_config, open_database
from agentstatus.storage.schema import metadata
from tests.support.postgres import PostgresDatabases, fresh_empty_database


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_empty_reaches_head_with_every_table(any_database_url: str) -> None:
    engine = open_database(any_database_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            tables = set(inspect(conn).get_table_names())
        assert version == head_revision()
        assert set(metadata.tables) <= tables
        # Opening again is a no-op, not an error.
        open_database(any_database_url).dispose()
    finally:
        engine.dispose()


def _open_in_a_process(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentstatus", "--database", url, "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_servers_starting_together_migrate_once(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = fresh_empty_database(postgres_databases)
    sqlite_url = f"sqlite:///{tmp_path / 'together.db'}"
    for target in (url, sqlite_url):
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(_open_in_a_process, [target] * 4))
        for result in results:
            assert result.returncode == 0, result.stderr
            assert "up to date" in result.stdout
        engine = open_database(target)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        engine.dispose()
        assert [v[0] for v in versions] == [head_revision()]
