"""Three server processes on one PostgreSQL: the invariants hold across instances."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service import presence
from tests.support.factories import make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess

ROUNDS = 5


async def _race(bases: list[str], code: str, users: list[str], extension: str) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as client:
        requests = [
            client.get(
                f"{bases[i % len(bases)]}/UserLogin/SetStatusFromAPI",
                params={"Code": code, "UserId": user, "ExtensionUser": extension, "Status": 1},
            )
            for i, user in enumerate(users)
        ]
        answers = await asyncio.gather(*requests)
    return [a.json()["StatusErroMessage"] for a in answers]


def test_three_instances_one_winner_per_round(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    url = postgres_databases.create()
    engine = open_database(url)
    org = make_org(engine, agent_count=30, extension_count=ROUNDS)
    servers = [ServerProcess(url, tmp_path / f"s{i}.log") for i in range(3)]
    try:
        for server in servers:
            server.start()
        bases = [s.base_url for s in servers]
        for round_no in range(ROUNDS):
            extension = org.extensions[round_no]
            # Everyone who won an earlier round is still holding that extension.
            contenders = [u for u in org.agents if u not in _holders(engine, org.name)]
            messages = asyncio.run(_race(bases, org.code, contenders, extension))
            assert messages.count("OK") == 1, messages
            assert messages.count("Extension is already in use") == len(contenders) - 1
            holders = _holders(engine, org.name)
            assert list(holders.values()).count(extension) == 1
        assert len(set(_holders(engine, org.name).values())) == ROUNDS
    finally:
        for server in servers:
            server.stop()
        engine.dispose()


def _holders(engine: Engine, org: str) -> dict[str, str]:
    return {
        p.user_id: p.extension
        for p in presence.list_presence(engine, org)
        if p.extension is not None
    }
