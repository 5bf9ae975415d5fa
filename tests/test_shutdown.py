"""A service's shutdown leaves no database connection open behind it.

A background loop cancelled at shutdown does not stop the thread running its database call
(``asyncio.to_thread``). When the pool was disposed under such a thread, the connection it
gave back went to the discarded pool and stayed open until the garbage collector warned
("psycopg.Connection ... was deleted while still open", seen in CI's runs).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from agentstatus.app import create_service
from agentstatus.settings import load_settings


def test_a_connection_a_thread_gives_back_during_shutdown_is_closed(tmp_path: Path) -> None:
    service = create_service(load_settings(database_url=f"sqlite:///{tmp_path / 'shut.db'}"))
    engine = service.context.engine
    held, shut_down = threading.Event(), threading.Event()
    raw: list[sqlite3.Connection] = []

    def a_call_in_a_thread() -> None:
        with engine.connect() as conn:
            raw.append(conn.connection.dbapi_connection)  # type: ignore[arg-type]
            held.set()
            # Still inside its call when the shutdown starts; done before the shutdown
            # ends (it waits for it) or, without that wait, just after it ended.
            shut_down.wait(0.5)

    async def lifespan() -> list[str]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        answers: list[str] = []
        started = asyncio.Event()

        async def send(message: dict[str, Any]) -> None:
            answers.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                started.set()
            if message["type"] == "lifespan.shutdown.complete":
                shut_down.set()

        app = asyncio.create_task(service.asgi({"type": "lifespan"}, inbox.get, send))  # type: ignore[arg-type]
        await inbox.put({"type": "lifespan.startup"})
        await started.wait()
        thread = threading.Thread(target=a_call_in_a_thread)
        thread.start()
        await asyncio.to_thread(held.wait, 5)
        await inbox.put({"type": "lifespan.shutdown"})
        await app
        await asyncio.to_thread(thread.join, 5)
        return answers

    answers = asyncio.run(lifespan())
    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        raw[0].execute("SELECT 1")
