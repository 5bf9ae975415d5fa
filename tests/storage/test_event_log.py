"""Every writer of the history goes through the one append path (``storage.event_log``):
no other module of the source writes a history row or an event's outbox row, and each
writer (a status change on either engine, a limit's warning, a call's event) leaves the
row with its kind and one pending delivery per subscribed endpoint."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

import agentstatus
from agentstatus.app import open_database
from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import (
    CALL_STARTED,
    LOGIN_EVENT,
    LOGOUT_EVENT,
    OVERDUE_EVENT,
    STATUS_EVENT,
    WRAP_UP_EVENT,
    WRAP_UP_REASON,
    is_change,
)
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import policies, webhooks
from agentstatus.service.deadlines import DeadlineRunner, claim_due
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.storage import event_log, sqlite_status
from agentstatus.storage.database import reading
from agentstatus.storage.key_file import secret_box_for
from agentstatus.storage.schema import history, presence, webhook_deliveries
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org
from tests.support.receiver import LOOPBACK

SOURCE = Path(agentstatus.__file__).parent
APPEND_PATH = SOURCE / "storage" / "event_log.py"
MIGRATIONS = SOURCE / "storage" / "migrations"
# A history row or an event's delivery, written in SQL text or with SQLAlchemy.
HISTORY_WRITE = re.compile(
    r"INSERT\s+INTO\s+history\b|UPDATE\s+history\s+SET|\b(?:insert|update)\(\s*history\s*\)",
    re.IGNORECASE,
)
DELIVERY_WRITE = re.compile(
    r"INSERT\s+INTO\s+webhook_deliveries\b|\binsert\(\s*webhook_deliveries\s*\)", re.IGNORECASE
)


def _sources() -> Iterator[tuple[Path, str]]:
    for path in sorted(SOURCE.rglob("*.py")):
        if path != APPEND_PATH and MIGRATIONS not in path.parents:
            yield path, path.read_text()


def test_only_the_event_log_writes_history_rows() -> None:
    found = [
        f"{path.relative_to(SOURCE)}:{text[: m.start()].count(chr(10)) + 1}"
        for path, text in _sources()
        for m in HISTORY_WRITE.finditer(text)
    ]
    assert found == []


def _sets_history_id(n: ast.AST) -> bool:
    """A keyword ``history_id=`` with any value but None, or SQL text naming it."""
    if isinstance(n, ast.Constant):
        return "history_id" in str(n.value)
    if isinstance(n, ast.keyword) and n.arg == "history_id":
        return not (isinstance(n.value, ast.Constant) and n.value.value is None)
    return False


def test_only_the_event_log_writes_an_events_outbox_rows() -> None:
    """A webhook's test event (no history row) is queued on its own; the deliveries of an
    event, only by the append path."""
    found = []
    for path, text in _sources():
        if not DELIVERY_WRITE.search(text):
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            writes = DELIVERY_WRITE.search(ast.unparse(node))
            if writes and any(_sets_history_id(n) for n in ast.walk(node)):
                found.append(f"{path.relative_to(SOURCE)}:{node.name}")
    assert found == []


KEY = Fernet.generate_key().decode()


@pytest.fixture
def engine_on(any_database_url: str) -> Iterator[Engine]:
    opened = open_database(any_database_url)
    yield opened
    opened.dispose()


@pytest.fixture
async def changes(any_database_url: str, engine_on: Engine) -> AsyncIterator[StatusChanges]:
    async with standalone_changes(any_database_url) as made:
        yield made


def _subscribed(engine: Engine, url: str) -> OrgFixture:
    org = make_org(engine)
    box = secret_box_for(url, KEY)
    webhooks.add_endpoint(engine, box, org.name, "http://127.0.0.1:9/all", outbound=LOOPBACK)
    webhooks.add_endpoint(
        engine,
        box,
        org.name,
        "http://127.0.0.1:9/calls",
        [CALL_STARTED],
        outbound=LOOPBACK,
    )
    return org


def _log(engine: Engine, org: OrgFixture) -> list[tuple[str, list[str]]]:
    """Each event's kind and the kinds of its deliveries, oldest first."""
    with reading(engine) as conn:
        oid = org_id(conn, org.name)
        rows = conn.execute(
            select(history.c.id, history.c.kind).where(history.c.org_id == oid).order_by("id")
        ).all()
        sent = conn.execute(
            select(webhook_deliveries.c.history_id, webhook_deliveries.c.event_type)
        ).all()
    return [(r.kind, sorted(t for h, t in sent if h == r.id)) for r in rows]


async def _apply(
    changes: StatusChanges, engine: Engine, org: OrgFixture, ext: str | None, status: int
) -> None:
    with reading(engine) as conn:
        oid = org_id(conn, org.name)
    result = await changes.apply(StatusCommand("101", ext, status, Source.ADMIN, org_id=oid))
    assert result.row is Row.OK


async def test_a_status_change_appends_its_kind_and_outbox(
    any_database_url: str, engine_on: Engine, changes: StatusChanges
) -> None:
    org = _subscribed(engine_on, any_database_url)
    await _apply(changes, engine_on, org, "sip1", 1)
    await _apply(changes, engine_on, org, "sip1", 3)
    await _apply(changes, engine_on, org, None, LOGOUT)
    assert _log(engine_on, org) == [
        (LOGIN_EVENT, [LOGIN_EVENT]),
        (STATUS_EVENT, [STATUS_EVENT]),
        (LOGOUT_EVENT, [LOGOUT_EVENT]),
    ]


async def test_a_change_records_its_reason_and_actor(
    any_database_url: str, engine_on: Engine, changes: StatusChanges
) -> None:
    """Why and who reach the row on either engine; a wrap-up is its own kind of change."""
    org = _subscribed(engine_on, any_database_url)
    with reading(engine_on) as conn:
        oid = org_id(conn, org.name)
    asked = StatusCommand(
        "101", "sip1", 1, Source.SUPERVISOR, org_id=oid, reason="covering", actor="sv@example.org"
    )
    assert (await changes.apply(asked)).row is Row.OK
    wrap = StatusCommand("101", "sip1", 13, Source.PBX, org_id=oid, reason=WRAP_UP_REASON)
    assert (await changes.apply(wrap)).row is Row.OK
    with reading(engine_on) as conn:
        rows = conn.execute(
            select(history.c.kind, history.c.source, history.c.reason, history.c.actor)
            .where(history.c.org_id == oid)
            .order_by(history.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (LOGIN_EVENT, "supervisor", "covering", "sv@example.org"),
        (WRAP_UP_EVENT, "pbx", WRAP_UP_REASON, None),
    ]
    assert is_change(WRAP_UP_EVENT)
    assert _log(engine_on, org)[-1] == (WRAP_UP_EVENT, [WRAP_UP_EVENT])


async def test_the_sqlite_engine_appends_through_the_event_log(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    appended: list[str] = []

    def spy(conn: object, event: event_log.NewEvent) -> int:
        appended.append(event.kind)
        return event_log.append_sqlite(conn, event)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_status, "append_sqlite", spy)
    org = _subscribed(engine, database_url)
    async with standalone_changes(database_url) as made:
        await _apply(made, engine, org, "sip1", 1)
    assert appended == [LOGIN_EVENT]
    assert _log(engine, org) == [(LOGIN_EVENT, [LOGIN_EVENT])]


def test_the_postgres_engine_writes_its_event_with_the_event_logs_statement() -> None:
    from agentstatus.storage import postgres_status

    assert event_log.postgres_append("moved") in postgres_status.WRITE


async def test_a_warning_appends_its_kind_and_outbox(
    any_database_url: str, engine_on: Engine, changes: StatusChanges
) -> None:
    org = _subscribed(engine_on, any_database_url)
    policies.set_limit(engine_on, org.name, 3, Limit(60, LimitAction.WARN))
    await _apply(changes, engine_on, org, "sip1", 3)
    with reading(engine_on) as conn:
        since = conn.execute(select(presence.c.since_ms)).scalars().all()[-1]
    claimed = claim_due(engine_on, int(since) + 61_000, 60_000)
    await DeadlineRunner(engine_on, changes, lambda _: None).act(claimed)
    assert _log(engine_on, org)[-1] == (OVERDUE_EVENT, [OVERDUE_EVENT])
    assert not is_change(OVERDUE_EVENT)


async def test_a_call_appends_its_kind_and_outbox(
    any_database_url: str, engine_on: Engine, changes: StatusChanges
) -> None:
    org = _subscribed(engine_on, any_database_url)
    await _apply(changes, engine_on, org, "sip1", 1)
    with reading(engine_on) as conn:
        oid = org_id(conn, org.name)
    call = Call("c1", "sip1", Direction.IN, CallState.RINGING, "Dana", "0501234567", "", 1)
    assert store_calls(engine_on, oid, [Changed(CallChange.STARTED, call)])
    assert _log(engine_on, org)[-1] == (CALL_STARTED, [CALL_STARTED, CALL_STARTED])
    assert not is_change(CALL_STARTED)
