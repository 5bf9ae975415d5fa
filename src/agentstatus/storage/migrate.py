"""Applying the Alembic migrations, automatically, whenever a database is opened."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from agentstatus.package_files import require
from agentstatus.storage.database import create_sql_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x61677374  # "agst": the advisory lock id migrations hold on PostgreSQL


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(require(MIGRATIONS_DIR)))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several servers starting at once: the first migrates, the others wait and
            # then find nothing to do. (SQLite's BEGIN IMMEDIATE serialises them already.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(database_url: str) -> Engine:
    """An engine on an up-to-date schema: migrations run whenever a database is opened."""
    engine = create_sql_engine(database_url)
    upgrade(engine)
    return engine
