"""Callers in Asterisk's queues (issue 24): app_queue's ``QueueCallerJoin``,
``QueueCallerLeave``, ``QueueCallerAbandon`` and ``AgentConnect`` through the real link to
the callers waiting and each queue's day, and ``QueueStatus``' ``QueueEntry`` items read on
every (re)connect. The adapter is also fed the real recordings' lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import (
    QUEUE_ABANDONED,
    QUEUE_ANSWERED,
    QUEUE_JOINED,
    QUEUE_LEFT,
)
from agentstatus.domain.pbx_config import make_config
from agentstatus.domain.queues import CallerChange, CallerEvent, QueueCaller
from agentstatus.pbx.asterisk import Asterisk
from agentstatus.service import pbx_settings
from agentstatus.service.tokens import Role, create_token
from tests.support.ami_recording import MAIN, QUEUE, events
from tests.support.ami_server import AmiServer
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, RECONNECT_SECONDS, use_asterisk, wait_state
from tests.support.queue_callers import detail, queue_events, queue_now, today, wait, waiting
from tests.support.receiver import LOOPBACK
from tests.support.sse import Subscriber
from tests.support.wire import set_status

SERVER_QUEUES = ("support", "sales")
CONFIGURED = ("support",)
"""``sales`` is a queue of the phone system that agentstatus was not given."""


def _adapter(interface: str = "Local/{extension}@agents") -> Asterisk:
    config = make_config(
        "asterisk", "127.0.0.1", queues=["support"], username="u", interface=interface
    )
    return Asterisk(config, "s", LOOPBACK, extensions=frozenset({"p2"}))


def test_the_recorded_callers_are_joins_leaves_answers_and_an_abandon() -> None:
    """The queue recording: two callers answered by Eli (``Local/p2@agents``), HoldTime 12
    and 4, each ``QueueCallerLeave`` before its ``AgentConnect``; a third hangs up after 4 s
    (``QueueCallerAbandon`` before its leave). Caller ids are ``<unknown>``."""
    phone = _adapter()
    heard = [e for m in events(QUEUE) for e in phone.interpret(m) if isinstance(e, CallerEvent)]
    first, second, third = (
        QueueCaller("support", uid, "") for uid in ("1796590237.1", "1796590249.9", "1796590259.21")
    )
    assert [(e.caller, e.change, e.wait_ms, e.member) for e in heard] == [
        (first, CallerChange.JOINED, None, ""),
        (first, CallerChange.LEFT, None, ""),
        (first, CallerChange.ANSWERED, 12_000, "Local/p2@agents"),
        (second, CallerChange.JOINED, None, ""),
        (second, CallerChange.LEFT, None, ""),
        (second, CallerChange.ANSWERED, 4_000, "Local/p2@agents"),
        (third, CallerChange.JOINED, None, ""),
        (third, CallerChange.ABANDONED, 4_000, ""),
        (third, CallerChange.LEFT, None, ""),
    ]
    assert all(e.user_id == "" and e.joined_ms is None for e in heard)  # the link names them


def test_the_main_recordings_callers_and_another_queues_are_not_ours() -> None:
    phone = _adapter()
    recorded = events(MAIN)
    heard = [e for m in recorded for e in phone.interpret(m) if isinstance(e, CallerEvent)]
    changes = [e.change for e in heard]
    assert changes.count(CallerChange.JOINED) == changes.count(CallerChange.ANSWERED) == 6
    assert changes.count(CallerChange.LEFT) == 6
    assert {e.caller.queue for e in heard} == {"support"}
    assert all(e.wait_ms is not None for e in heard if e.change is CallerChange.ANSWERED)
    join = next(m for m in recorded if m["Event"] == "QueueCallerJoin")
    assert phone.interpret({**join, "Queue": "sales"}) == []
    assert phone.interpret({**join, "Uniqueid": ""}) == []
    assert phone.interpret({**join, "Uniqueid": "1" * 200}) == []
    connect = next(m for m in recorded if m["Event"] == "AgentConnect")
    for garbage in ("", "12s", "-4", "9" * 40):
        (answered,) = phone.interpret({**connect, "HoldTime": garbage})
        assert isinstance(answered, CallerEvent)
        assert answered.wait_ms is None  # the service takes the wait from the join


@pytest.fixture
def pbx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in PBX_ENV.items():
        monkeypatch.setenv(key, value)
    # Streams look for changes nobody announced only this rarely: what reaches one within
    # a second was announced.
    monkeypatch.setenv("AGENTSTATUS_EVENTS_POLL_SECONDS", "30")


class Linked:
    """An organisation on the AMI test server through the real link, served in process,
    agent 101 logged in at sip1 (a member of ``support``)."""

    def __init__(self, engine: Engine, org: OrgFixture, ami: AmiServer, base_url: str) -> None:
        self.engine, self.org, self.ami, self.base_url = engine, org, ami, base_url

    def waiting(self, queue: str = "support") -> list[tuple[str, str]]:
        return waiting(self.engine, self.org.name, queue)


@contextmanager
def _linked(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Linked]:
    org = make_org(engine)
    with AmiServer(queues=SERVER_QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, CONFIGURED)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(lambda: ("support", "PJSIP/sip1") in ami.members(), what="sip1 added")
            yield Linked(engine, org, ami, server.base_url)


@pytest.fixture
def linked(pbx_env: None, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Linked]:
    with _linked(engine, database_url, tmp_path) as found:
        yield found


def test_on_both_engines_a_caller_answered_and_one_abandoned(
    pbx_env: None, any_database_url: str, tmp_path: Path
) -> None:
    engine = open_database(any_database_url)
    try:
        with _linked(engine, any_database_url, tmp_path) as on:
            org = on.org.name
            answered = on.ami.queue_call("support", "PJSIP/sip1", caller_num="0501")
            gone = on.ami.queue_call("support", None, caller_num="0502")
            wait(lambda: len(on.waiting()) == 2, "both waiting")
            answered.answer()
            gone.abandon()
            wait(lambda: on.waiting() == [], "nobody waiting")
            figures = today(engine, org, "support")
            assert (figures.offered, figures.answered, figures.abandoned) == (2, 1, 1)
            by_kind = {e.kind: e for e in queue_events(engine, org)}
            assert by_kind[QUEUE_ANSWERED].user_id == "101"
            assert by_kind[QUEUE_ABANDONED].user_id == ""
            answered.hangup()
    finally:
        engine.dispose()


def test_a_caller_waits_within_a_second_and_is_answered_by_the_agent(linked: Linked) -> None:
    engine, org = linked.engine, linked.org.name
    started = time.monotonic()
    call = linked.ami.queue_call("support", "PJSIP/sip1", caller_num="0501234567")
    took = wait(lambda: linked.waiting() == [(call.caller_uniqueid, "0501234567")], "waiting", 1.0)
    assert took < 1.0
    assert today(engine, org, "support").offered == 1
    call.answer()
    held_at_most = time.monotonic() - started
    wait(lambda: today(engine, org, "support").answered == 1, "answered counted")
    assert linked.waiting() == []
    figures = today(engine, org, "support")
    assert (figures.offered, figures.answered, figures.abandoned) == (1, 1, 0)
    assert figures.answered_within == 1  # seconds, within the default 20
    kinds = [e.kind for e in queue_events(engine, org)]
    assert kinds == [QUEUE_JOINED, QUEUE_LEFT, QUEUE_ANSWERED]  # app_queue's order
    answered = queue_events(engine, org)[-1]
    assert (answered.user_id, answered.new_extension, answered.source) == ("101", "sip1", "pbx")
    found = detail(answered)
    assert (found["queue"], found["call_id"], found["phone"]) == (
        "support",
        call.caller_uniqueid,
        "0501234567",
    )
    # HoldTime is whole seconds: 0 unless the machine took a second to get here.
    assert found["wait_ms"] % 1000 == 0
    assert found["wait_ms"] <= held_at_most * 1000
    call.hangup()


def test_an_abandoned_caller_counts_in_the_days_abandoned(linked: Linked) -> None:
    engine, org = linked.engine, linked.org.name
    started = time.monotonic()
    call = linked.ami.queue_call("support", None, caller_num="0507654321")  # nobody rung
    wait(lambda: linked.waiting() == [(call.caller_uniqueid, "0507654321")], "waiting", 1.0)
    call.abandon()
    held_at_most = time.monotonic() - started
    wait(lambda: today(engine, org, "support").abandoned == 1, "abandoned counted")
    assert linked.waiting() == []
    figures = today(engine, org, "support")
    assert (figures.offered, figures.answered, figures.abandoned) == (1, 0, 1)
    assert figures.service_level == 0.0
    kinds = [e.kind for e in queue_events(engine, org)]
    assert kinds == [QUEUE_JOINED, QUEUE_ABANDONED]  # the leave after it changes nothing
    abandoned = queue_events(engine, org)[-1]
    assert abandoned.user_id == ""
    waited = detail(abandoned)["wait_ms"]
    assert waited % 1000 == 0  # HoldTime, whole seconds
    assert waited <= held_at_most * 1000


def test_a_reconnect_reads_the_callers_waiting_and_forgets_those_gone(linked: Linked) -> None:
    engine, org, ami = linked.engine, linked.org.name, linked.ami
    gone = ami.queue_call("support", None, caller_num="0501111111")
    stays = ami.queue_call("support", None, caller_num="0502222222")
    wait(lambda: len(linked.waiting()) == 2, "two callers waiting")
    accepted = ami.connections_accepted
    ami.stop_listening()  # the link loses Asterisk; meanwhile, unseen:
    gone.abandon()
    came = ami.queue_call("support", None, caller_num="", waited=30)
    ami.start_listening()
    wait(lambda: ami.connections_accepted > accepted, "the link back", RECONNECT_SECONDS)
    wait(lambda: len(linked.waiting()) == 2 and gone.caller_uniqueid not in dict(linked.waiting()),
         "the callers as QueueStatus lists them")  # fmt: skip
    assert dict(linked.waiting()) == {stays.caller_uniqueid: "0502222222", came.caller_uniqueid: ""}
    now = queue_now(engine, org, "support")
    assert now is not None
    # The newcomer joined Wait seconds before it was read: it waits longest.
    assert now.waiting[0].caller.call_id == came.caller_uniqueid
    assert now_ms() - now.waiting[0].joined_ms >= 29_000
    left = [e for e in queue_events(engine, org) if e.kind == QUEUE_LEFT]
    assert [detail(e)["call_id"] for e in left] == [gone.caller_uniqueid]
    figures = today(engine, org, "support")
    # Its abandon was not seen: it left, and counts only as offered.
    assert (figures.offered, figures.abandoned) == (3, 0)


def test_callers_of_a_queue_not_configured_are_ignored(linked: Linked) -> None:
    engine, org = linked.engine, linked.org.name
    elsewhere = linked.ami.queue_call("sales", None, caller_num="0503333333")
    ours = linked.ami.queue_call("support", None, caller_num="0504444444")
    # Events are handled in order: once ours is waiting, the other queue's were read.
    wait(lambda: linked.waiting() == [(ours.caller_uniqueid, "0504444444")], "ours waiting")
    elsewhere.abandon()
    ours.abandon()
    wait(lambda: today(engine, org, "support").abandoned == 1, "ours abandoned")
    assert queue_now(engine, org, "sales") is None
    assert {detail(e)["queue"] for e in queue_events(engine, org)} == {"support"}


def test_malformed_caller_events_neither_drop_the_link_nor_write_garbage(
    linked: Linked,
) -> None:
    engine, org, ami = linked.engine, linked.org.name, linked.ami
    accepted = ami.connections_accepted
    base = {"Event": "QueueCallerJoin", "Privilege": "agent,all", "Channel": "PJSIP/trunk-1"}
    join = {**base, "CallerIDNum": "0505555555", "Queue": "support", "Position": "1"}
    ami.replay(
        [
            {**join, "Count": "1"},  # no Uniqueid
            {**join, "Uniqueid": "x" * 300},  # not a channel's
            {**join, "Uniqueid": "7.1"},
            {**join, "Event": "QueueCallerAbandon", "Uniqueid": "7.1", "HoldTime": "lots"},
            {**join, "Event": "QueueCallerLeave", "Uniqueid": "7.1"},
            {**join, "Event": "AgentConnect", "Uniqueid": "7.2", "HoldTime": "9" * 30},
            {**join, "Event": "QueueCallerJoin", "Uniqueid": "7.3", "CallerIDNum": "<unknown>"},
        ]
    )
    wait(lambda: linked.waiting() == [("7.3", "")], "the last, well-formed caller")
    assert ami.connections_accepted == accepted
    assert pbx_settings.pbx_state(engine, org).connected  # type: ignore[union-attr]
    events_ = queue_events(engine, org)
    assert [(e.kind, detail(e)["call_id"]) for e in events_] == [
        (QUEUE_JOINED, "7.1"),
        (QUEUE_ABANDONED, "7.1"),
        (QUEUE_ANSWERED, "7.2"),
        (QUEUE_JOINED, "7.3"),
    ]
    abandoned, answered = events_[1], events_[2]
    # HoldTime not believed: the wait is the service's own, from the join it saw.
    assert 0 <= int(detail(abandoned)["wait_ms"]) < 10_000  # type: ignore[call-overload]
    assert detail(answered)["wait_ms"] is None  # never seen joining, no believable HoldTime
    assert answered.user_id == ""  # no Interface: nobody named
    figures = today(engine, org, "support")
    assert (figures.offered, figures.answered, figures.abandoned) == (2, 1, 1)


def test_the_event_stream_wakes_at_once_for_a_caller(linked: Linked) -> None:
    """The link announces what it wrote: the stream sends the join at once, not at its
    next poll."""
    engine, org = linked.engine, linked.org.name
    token = create_token(engine, Role.ADMIN, org).token
    with Subscriber(f"{linked.base_url}/api/v1/orgs/{org}/events", token) as stream:
        stream.wait_for(1)
        before = len(stream.events)
        call = linked.ami.queue_call("support", None, caller_num="0506666666")
        joined = [
            e for e in stream.wait_for(before + 1, timeout=1.0)[before:]
            if e.event == QUEUE_JOINED or e.data.get("type") == QUEUE_JOINED
        ]  # fmt: skip
        assert joined, stream.events[before:]
        call.abandon()


def test_a_caller_on_the_ami_server_is_in_get_queues_callers_within_a_second(
    linked: Linked,
) -> None:
    """End to end, as a CRM sees it: a caller joins at Asterisk and Voicenter's
    GetQueuesCallers names it within a second; abandoned, it is gone."""
    call = linked.ami.queue_call("support", None, caller_num="0503333333")
    url = f"{linked.base_url}/comet/API/GetQueuesCallers"

    def callers() -> list[dict[str, object]]:
        answer = httpx.get(url, params={"code": linked.org.code}).json()
        assert answer["ERR"] == 0, answer
        return [c for q in answer["QUEUES"] if q["Name"] == "support" for c in q["Callers"]]

    took = wait(lambda: [c["Phone"] for c in callers()] == ["0503333333"], "in GetQueuesCallers")
    assert took < 1.0
    [caller] = callers()
    assert caller["CallID"] == call.caller_uniqueid
    call.abandon()
    wait(lambda: callers() == [], "gone from GetQueuesCallers")
    assert today(linked.engine, linked.org.name, "support").abandoned == 1
