"""Choosing the status engine for a database URL, and telling other processes of changes
made outside a server (the CLI)."""

from __future__ import annotations

from agentstatus.storage.announcements import announcing
from agentstatus.storage.database import libpq_conninfo, parse_url, sqlite_path
from agentstatus.storage.postgres_status import PostgresStatusStore
from agentstatus.storage.protocol import StatusStore
from agentstatus.storage.sqlite_status import SqliteStatusStore


def create_status_store(database_url: str, timeout_seconds: float = 5.0) -> StatusStore:
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteStatusStore(sqlite_path(url))
    return PostgresStatusStore(libpq_conninfo(url), timeout_seconds=timeout_seconds)


async def announce_once(database_url: str, org_ids: set[int]) -> None:
    """Wake the event streams of every server on this PostgreSQL database for these
    organisations (servers on SQLite see changes of other processes by polling)."""
    url = parse_url(database_url)
    if not org_ids or url.get_backend_name() != "postgresql":
        return
    async with announcing(libpq_conninfo(url)) as announcer:
        await announcer.announce(org_ids)
