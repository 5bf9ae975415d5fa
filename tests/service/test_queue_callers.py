"""Callers in queues written to the event log and the callers waiting now (issue 24), on
both engines, in the orders the real phone systems send (``../shared/pbx/``)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine, select

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import (
    QUEUE_ABANDONED,
    QUEUE_ANSWERED,
    QUEUE_JOINED,
    QUEUE_LEFT,
)
from agentstatus.domain.queues import (
    DEFAULT_SERVICE_LEVEL_SECONDS,
    CallerChange,
    CallerEvent,
    QueueCaller,
    WaitingNow,
)
from agentstatus.service.organisations import org_id
from agentstatus.service.queues import queues_now, record
from agentstatus.storage.database import reading
from agentstatus.storage.schema import queue_callers, queue_settings
from tests.support.factories import make_org
from tests.support.history import all_history

T0 = 1_796_590_237_000
A = QueueCaller("support", "1796590237.1", "5551234")
B = QueueCaller("support", "1796590249.9", "")
C = QueueCaller("sales", "1796590300.2", "5559999")


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def _waiting(engine: Engine, oid: int) -> set[tuple[str, str, int]]:
    with reading(engine) as conn:
        rows = conn.execute(
            select(queue_callers.c.queue, queue_callers.c.call_id, queue_callers.c.joined_ms).where(
                queue_callers.c.org_id == oid
            )
        ).all()
    return {(r.queue, r.call_id, r.joined_ms) for r in rows}


def test_a_callers_wait_in_the_order_asterisk_and_freeswitch_tell_it(any_engine: Engine) -> None:
    org = make_org(any_engine)
    with reading(any_engine) as conn:
        oid = org_id(conn, org.name)
    # Asterisk: joined, then its leave *before* the AgentConnect that answered it.
    assert record(any_engine, oid, [CallerEvent(A, CallerChange.JOINED, T0)]) == 1
    assert _waiting(any_engine, oid) == {("support", A.call_id, T0)}
    assert record(any_engine, oid, [CallerEvent(A, CallerChange.JOINED, T0 + 5)]) == 0
    written = record(
        any_engine,
        oid,
        [
            CallerEvent(A, CallerChange.LEFT, T0 + 12_000),
            CallerEvent(A, CallerChange.ANSWERED, T0 + 12_001, wait_ms=12_000, user_id="102"),
        ],
    )
    assert written == 2
    assert _waiting(any_engine, oid) == set()
    # Abandoned before its leave; the leave of a caller no longer waiting writes nothing.
    record(any_engine, oid, [CallerEvent(B, CallerChange.JOINED, T0 + 20_000)])
    assert (
        record(
            any_engine,
            oid,
            [
                CallerEvent(B, CallerChange.ABANDONED, T0 + 24_000, wait_ms=4_000),
                CallerEvent(B, CallerChange.LEFT, T0 + 24_001),
            ],
        )
        == 1
    )
    events = [e for e in all_history(any_engine, org.name) if e.kind.startswith("queue.")]
    assert [e.kind for e in events] == [
        QUEUE_JOINED, QUEUE_LEFT, QUEUE_ANSWERED, QUEUE_JOINED, QUEUE_ABANDONED,
    ]  # fmt: skip
    answered = events[2]
    assert answered.user_id == "102"  # the agent who answered, known
    assert {e.user_id for e in events if e is not answered} == {""}
    detail = orjson.loads(str(answered.detail))
    assert (detail["queue"], detail["phone"]) == ("support", "5551234")
    assert (detail["joined_ms"], detail["wait_ms"]) == (T0 + 1, 12_000)  # at less HoldTime
    with reading(any_engine) as conn:
        names = set(
            conn.execute(
                select(queue_settings.c.name).where(queue_settings.c.org_id == oid)
            ).scalars()
        )
    assert names == {"support"}


def test_a_reconnect_replaces_the_callers_waiting(any_engine: Engine) -> None:
    org = make_org(any_engine)
    with reading(any_engine) as conn:
        oid = org_id(conn, org.name)
    record(
        any_engine,
        oid,
        [CallerEvent(A, CallerChange.JOINED, T0), CallerEvent(C, CallerChange.JOINED, T0)],
    )
    # Read again after a reconnect: A is gone, B came meanwhile; sales is not read here.
    now = WaitingNow("support", ((B, T0 + 3_000),), T0 + 10_000)
    assert record(any_engine, oid, [now]) == 2
    assert _waiting(any_engine, oid) == {
        ("support", B.call_id, T0 + 3_000),
        ("sales", C.call_id, T0),
    }
    assert record(any_engine, oid, [now]) == 0  # read twice, nothing new


def test_a_queues_day_counts_offered_answered_abandoned_and_its_service_level(
    any_engine: Engine,
) -> None:
    org = make_org(any_engine)
    with reading(any_engine) as conn:
        oid = org_id(conn, org.name)
    now = now_ms()
    quick, slow, gone, waits = (QueueCaller("support", f"c{i}", "") for i in range(4))
    record(
        any_engine,
        oid,
        [
            *(CallerEvent(c, CallerChange.JOINED, now - 60_000) for c in (quick, slow, gone)),
            CallerEvent(waits, CallerChange.JOINED, now - 30_000),
            CallerEvent(quick, CallerChange.ANSWERED, now - 55_000, user_id="101"),  # 5 s
            CallerEvent(slow, CallerChange.ANSWERED, now - 35_000, wait_ms=25_000),  # over 20 s
            CallerEvent(gone, CallerChange.ABANDONED, now - 50_000),
        ],
    )
    [support] = queues_now(any_engine, org.name, now)
    assert support.settings.name == "support"
    assert support.settings.service_level_seconds == DEFAULT_SERVICE_LEVEL_SECONDS
    assert [w.caller.call_id for w in support.waiting] == ["c3"]
    assert support.longest_wait_ms(now) == 30_000
    assert (support.today.offered, support.today.answered, support.today.abandoned) == (4, 2, 1)
    assert support.today.answered_within == 1
    assert support.today.average_wait_ms == 15_000  # (5 s + 25 s) / 2
    assert support.today.service_level == pytest.approx(1 / 3)
    assert queues_now(any_engine, org.name, now, queue="sales") == []
