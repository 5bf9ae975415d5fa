"""Voicenter's monitor in the test process: the recorded sample's key sets, and a rig of the
service's core (the database, the status path, the fan-out) without an HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from agentstatus.app import _Core, open_database
from agentstatus.domain.commands import Source, StatusCommand, StatusResult
from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.events.credentials import Credential
from agentstatus.events.fanout import Fanout
from agentstatus.events.hub import EventHub
from agentstatus.events.monitor import Session, open_monitor_session
from agentstatus.events.monitor_session import MonitorMessage
from agentstatus.events.pg_listener import PostgresListener
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.commit_order import CommitFence
from agentstatus.storage.database import libpq_conninfo, parse_url, reading
from agentstatus.storage.stores import create_status_store
from agentstatus.storage.types import Engine
from tests.support import contract

SAMPLE = Path(__file__).parent.parent / "fixtures" / "voicenter-events-sample.json"


@cache
def sample() -> dict[str, Any]:
    """Voicenter's recording: one real event of each kind."""
    loaded: dict[str, Any] = orjson.loads(SAMPLE.read_bytes())
    return loaded


def call_keys() -> tuple[set[str], set[str]]:
    """The keys every recorded call has, and the keys some recorded call has."""
    calls = []
    for name, event in sample().items():
        if name.startswith("ExtensionEvent"):
            calls += event["data"]["calls"]
            if "currentCall" in event["data"]:
                calls.append(event["data"]["currentCall"])
    every = set.intersection(*(set(c) for c in calls))
    some = set.union(*(set(c) for c in calls))
    return every, some


def decoded(message: MonitorMessage) -> Any:
    return orjson.loads(message.payload)


@dataclass
class Rig:
    engine: Engine
    fanout: Fanout
    changes: StatusChanges
    revoked: set[Credential] = field(default_factory=set)
    listener: PostgresListener | None = None

    def oid(self, org: str) -> int:
        with reading(self.engine) as conn:
            return org_id(conn, org)

    async def set(
        self, org: str, user: str, extension: str | None, status: int, source: Source = Source.GET
    ) -> StatusResult:
        command = StatusCommand(user, extension, status, source, org_id=self.oid(org))
        return await self.changes.apply(command)

    async def open(self, org: str, credential: Credential | None = None) -> Session:
        identity = MonitorIdentity(org, self.oid(org), 1, 1)
        return await open_monitor_session(self.fanout, identity, credential)


@asynccontextmanager
async def rig(
    url: str,
    *,
    buffer: int = 1000,
    per_token: int = 0,
    listen: bool = False,
    poll_seconds: float = 0.05,
) -> AsyncIterator[Rig]:
    """The core as ``app.create_service`` wires it (its ``_Core``), polling often; with
    ``listen`` (PostgreSQL), its LISTEN/NOTIFY link to the other instances too."""
    engine = open_database(url)
    hub = EventHub()
    conninfo = libpq_conninfo(parse_url(url)) if listen else None
    listener = None if conninfo is None else PostgresListener(conninfo, hub)
    core = _Core(engine, hub, CommitFence(engine), conninfo, listener, None)
    revoked: set[Credential] = set()
    core.changes = StatusChanges(create_status_store(url), core.after_commit)
    fanout = Fanout(
        engine,
        hub,
        core.fence,
        poll_seconds=poll_seconds,
        buffer=buffer,
        streams_per_token=per_token,
        revoked_among=lambda held: held & revoked,
    )
    core.fanout = fanout
    await core.changes.start()
    if listener is not None:
        await listener.start()
    try:
        yield Rig(engine, fanout, core.changes, revoked, listener)
    finally:
        if listener is not None:
            await listener.close()
        await fanout.close()
        await core.changes.close()
        engine.dispose()


async def next_until(
    session: Session, done: Callable[[list[MonitorMessage]], bool], timeout: float = 5.0
) -> list[MonitorMessage]:
    """The session's messages, read until ``done`` holds of all read so far; each must be
    as /asyncapi.json describes it."""
    seen: list[MonitorMessage] = []
    async with asyncio.timeout(timeout):
        while not done(seen):
            more = await session.next()
            for message in more:
                contract.check_monitor(message.event, decoded(message))
            seen += more
    return seen


async def expect(session: Session, count: int, timeout: float = 5.0) -> list[Any]:
    """The next ``count`` messages, decoded as (event, payload) pairs."""
    seen = await next_until(session, lambda s: len(s) >= count, timeout)
    return [(m.event, decoded(m)) for m in seen]
