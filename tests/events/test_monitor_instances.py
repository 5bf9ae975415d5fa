"""Voicenter's monitor across instances on one PostgreSQL database: a repeated identical
status records nothing, so no event tells the other instances; it goes to them as a note
of its own (NOTIFY, beside the organisations' wake-ups), and each instance's monitor
sockets announce it once."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

import psycopg
import pytest

from agentstatus.storage.announcements import (
    EVENTS_CHANNEL,
    Repeated,
    announcing,
    listening,
)
from agentstatus.storage.database import libpq_conninfo, parse_url
from tests.support.factories import make_org
from tests.support.monitor import Rig, expect, rig
from tests.support.postgres import PostgresDatabases


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    return postgres_databases.create()


async def _listening(*rigs: Rig) -> None:
    for r in rigs:
        assert r.listener is not None
        await asyncio.wait_for(r.listener.listening.wait(), 10)


async def test_a_repeat_reaches_the_monitor_sockets_of_every_instance_once(
    postgres_url: str,
) -> None:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(rig(postgres_url, listen=True))
        b = await stack.enter_async_context(rig(postgres_url, listen=True))
        await _listening(a, b)
        org = make_org(a.engine, name="two-instances").name
        on_a, on_b = await a.open(org), await b.open(org)
        for session in (on_a, on_b):
            assert [m.event for m in session.greeting()][-1] == "AllExtensionsStatus"
        await a.set(org, "101", "sip1", 5)
        for session in (on_a, on_b):
            ((name, first),) = await expect(session, 1)
            assert (name, first["data"]["representativeStatus"]) == ("ExtensionEvent", 5)
        repeated = await a.set(org, "101", "sip1", 5)  # on instance a only
        assert repeated.change is None
        for session in (on_a, on_b):
            ((name, again),) = await expect(session, 1)
            assert name == "ExtensionEvent"
            assert again["reason"] == "userStatusUpdate"
            assert (again["data"]["extenUser"], again["data"]["representativeStatus"]) == (
                "sip1",
                5,
            )
        # Once each: a hears its own note too and skips it. The next message is the next
        # change's, on both.
        await b.set(org, "102", "sip2", 1)
        for session in (on_a, on_b):
            ((_, following),) = await expect(session, 1)
            assert following["data"]["extenUser"] == "sip2"
        on_a.close()
        on_b.close()


async def _notes(
    conninfo: str, seen: list[object], ready: asyncio.Event, done: asyncio.Event, count: int
) -> None:
    """Listen, and keep every note; ``done`` once ``count`` came (then the test cancels)."""
    async with listening(conninfo) as notes:
        ready.set()
        async for note in notes:
            seen.append(note)
            if len(seen) >= count:
                done.set()


async def test_repeat_notes_cross_the_channel_and_unreadable_ones_are_none(
    postgres_url: str,
) -> None:
    conninfo = libpq_conninfo(parse_url(postgres_url))
    ready, done = asyncio.Event(), asyncio.Event()
    seen: list[object] = []
    heard = asyncio.create_task(_notes(conninfo, seen, ready, done, 5))
    await asyncio.wait_for(ready.wait(), 10)
    odd_user = "agent:7 with spaces"  # the user id is last in the note: any character
    async with announcing(conninfo) as announcer:
        await announcer.announce([12])
        await announcer.repeat([Repeated("inst1", 12, odd_user, 1_796_000_000_123)])
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        for payload in ("r:inst1:12:notanumber:101", "something else", "r:::"):
            await conn.execute("SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, payload))
    await asyncio.wait_for(done.wait(), 10)
    heard.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await heard
    assert seen == [12, Repeated("inst1", 12, odd_user, 1_796_000_000_123), None, None, None]
