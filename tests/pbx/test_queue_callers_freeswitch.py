"""Callers in FreeSWITCH's queues (issue 24): mod_callcenter's ``member-queue-start``,
``bridge-agent-start`` and ``member-queue-end`` through the real link to the callers
waiting and each queue's day, and ``callcenter_config queue list members`` read on every
(re)connect. The adapter is also fed the real recording's lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import (
    QUEUE_ABANDONED,
    QUEUE_ANSWERED,
    QUEUE_JOINED,
    QUEUE_LEFT,
)
from agentstatus.domain.pbx_config import make_config
from agentstatus.domain.queues import CallerChange, CallerEvent, QueueCaller
from agentstatus.pbx.freeswitch import FreeSwitch, parse_table
from agentstatus.pbx.freeswitch_queues import waiting_now
from agentstatus.service import pbx_settings
from tests.support.esl_server import EslServer, recorded, recorded_lines
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, RECONNECT_SECONDS, use_freeswitch, wait_state
from tests.support.queue_callers import detail, queue_events, queue_now, today, wait, waiting
from tests.support.receiver import LOOPBACK
from tests.support.wire import set_status

SERVER_QUEUES = ("support@default", "sales@default")
CONFIGURED = ("support@default",)
SUPPORT = "support@default"
JOIN_LINE, ANSWER_LINE, END_LINE = 31, 66, 121
"""The recording's first caller (Customer, 5551234): joined, answered by agent 2, ended."""


def _adapter() -> FreeSwitch:
    config = make_config("freeswitch", "127.0.0.1", queues=[SUPPORT])
    return FreeSwitch(config, "s", LOOPBACK, extensions=frozenset({"1002"}))


def test_the_recorded_callers_join_are_answered_and_leave() -> None:
    """Three callers of the recording, each answered by agent 2; CC times are whole
    seconds (the third waited 3 s: joined ...497, answered ...500)."""
    phone = _adapter()
    heard = [
        e
        for line in recorded_lines(1, 400)
        for e in phone.interpret(line)
        if isinstance(e, CallerEvent)
    ]
    callers = [
        QueueCaller(SUPPORT, "ca66dd96-0517-4a02-bdf1-ccf678c32d7e", "5551234"),
        QueueCaller(SUPPORT, "31560241-f4c3-4333-a1c9-86657385aeeb", "5552222"),
        QueueCaller(SUPPORT, "1eec8c34-2b41-4e64-ac7a-a3566116fb50", "5553333"),
    ]
    waits = [0, 11_000, 3_000]
    assert [(e.caller, e.change, e.wait_ms, e.member) for e in heard] == [
        row
        for caller, waited in zip(callers, waits, strict=True)
        for row in (
            (caller, CallerChange.JOINED, None, ""),
            (caller, CallerChange.ANSWERED, waited, "2"),
            (caller, CallerChange.LEFT, None, ""),  # Terminated: the call's end
        )
    ]
    assert heard[0].at_ms == 1796593447641538 // 1000  # the event's own time


def test_a_cancelled_caller_is_abandoned_unless_the_queue_sent_it_on() -> None:
    phone = _adapter()
    end = recorded(END_LINE)
    cancel = {
        **{k: v for k, v in end.items() if not k.startswith("CC-Agent")},
        "CC-Cause": "Cancel",
        "CC-Member-Joined-Time": "1796593447",
        "CC-Member-Leaving-Time": "1796593452",
    }
    for reason, change, waited in (
        ("BREAK_OUT", CallerChange.ABANDONED, 5_000),
        ("", CallerChange.ABANDONED, 5_000),  # an older mod_callcenter: no reason
        ("TIMEOUT", CallerChange.LEFT, None),
        ("NO_AGENT_TIMEOUT", CallerChange.LEFT, None),
    ):
        event = {**cancel, "CC-Cancel-Reason": reason} if reason else cancel
        (heard,) = phone.interpret(event)
        assert isinstance(heard, CallerEvent)
        assert (heard.change, heard.wait_ms) == (change, waited), reason
    assert phone.interpret({**recorded(JOIN_LINE), "CC-Queue": "sales@default"}) == []
    assert phone.interpret({**recorded(JOIN_LINE), "CC-Member-Session-UUID": ""}) == []
    # The event socket sends an empty value as _undef_: no session, no number.
    assert phone.interpret({**recorded(JOIN_LINE), "CC-Member-Session-UUID": "_undef_"}) == []
    (nobody,) = phone.interpret({**recorded(JOIN_LINE), "CC-Member-CID-Number": "_undef_"})
    assert isinstance(nobody, CallerEvent)
    assert nobody.caller.phone == ""
    answered = recorded(ANSWER_LINE)
    for garbage in ("", "soon", "-1", "9" * 30):
        (heard,) = phone.interpret({**answered, "CC-Agent-Answered-Time": garbage})
        assert isinstance(heard, CallerEvent)
        assert heard.wait_ms is None
    # Answered before it joined: not believed either.
    (heard,) = phone.interpret({**answered, "CC-Agent-Answered-Time": "1796593400"})
    assert isinstance(heard, CallerEvent)
    assert heard.wait_ms is None


def test_queue_list_members_rows_waiting_or_trying_are_the_callers_waiting() -> None:
    table = (
        "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
        "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
        "serving_system|state\n"
        "support@default|single_box|m1|s1|5551234|Dana|100|100|0|0|0|100|0|||Waiting\n"
        "support@default|single_box|m2|s2|anonymous||120|120|0|0|0|120|0|101|single_box|Trying\n"
        "support@default|single_box|m3|s3|5553333||130|130|0|131|0|130|0|101|single_box|Answered\n"
        "support@default|single_box|m4||5554444||140|140|0|0|150|140|0|||Abandoned\n"
        "support@default|single_box|m5||5555555||140|140|0|0|0|140|0|||Waiting\n"
        "+OK\n"
    )
    now = waiting_now(SUPPORT, parse_table(table), 200_000)
    assert now.callers == (
        (QueueCaller(SUPPORT, "s1", "5551234"), 100_000),
        (QueueCaller(SUPPORT, "s2", ""), 120_000),
    )
    assert waiting_now(SUPPORT, parse_table("+OK\n"), 1).callers == ()


@pytest.fixture
def pbx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in PBX_ENV.items():
        monkeypatch.setenv(key, value)


class Linked:
    def __init__(self, engine: Engine, org: OrgFixture, esl: EslServer) -> None:
        self.engine, self.org, self.esl = engine, org, esl

    def waiting(self, queue: str = SUPPORT) -> list[tuple[str, str]]:
        return waiting(self.engine, self.org.name, queue)


@pytest.fixture
def linked(pbx_env: None, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Linked]:
    org = make_org(engine)
    with EslServer(queues=SERVER_QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, CONFIGURED)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(
                lambda: "101" in esl.agents() and esl.agents()["101"].status == "Available",
                what="Login: Available",
            )
            yield Linked(engine, org, esl)


def test_a_caller_waits_within_a_second_and_is_answered_by_the_agent(linked: Linked) -> None:
    engine, org = linked.engine, linked.org.name
    caller = linked.esl.queue_caller(SUPPORT, caller_num="0501234567", caller_name="Dana")
    took = wait(lambda: linked.waiting() == [(caller.session_uuid, "0501234567")], "waiting", 1.0)
    assert took < 1.0
    offer = caller.offer_to("101")
    offer.answer()
    wait(lambda: today(engine, org, SUPPORT).answered == 1, "answered counted")
    assert linked.waiting() == []
    offer.hangup()  # member-queue-end Terminated: a leave of a caller no longer waiting
    later = linked.esl.queue_caller(SUPPORT, caller_num="0509999999")
    wait(lambda: [c for c, _ in linked.waiting()] == [later.session_uuid], "the next caller")
    kinds = [e.kind for e in queue_events(engine, org)]
    assert kinds == [QUEUE_JOINED, QUEUE_ANSWERED, QUEUE_JOINED]
    answered = queue_events(engine, org)[1]
    assert (answered.user_id, answered.new_extension, answered.source) == ("101", "sip1", "pbx")
    found = detail(answered)
    assert (found["queue"], found["call_id"], found["phone"]) == (
        SUPPORT,
        caller.session_uuid,
        "0501234567",
    )
    # mod_callcenter stamps whole seconds: the wait is 0 s, or 1 s when a second
    # turned between the join and the answer.
    assert found["wait_ms"] == (offer.answered_epoch - caller.joined) * 1000
    assert found["wait_ms"] in (0, 1000)
    figures = today(engine, org, SUPPORT)
    assert (figures.offered, figures.answered, figures.abandoned) == (2, 1, 0)


def test_an_abandoned_caller_counts_and_one_sent_on_only_leaves(linked: Linked) -> None:
    engine, org = linked.engine, linked.org.name
    hangs_up = linked.esl.queue_caller(SUPPORT, caller_num="0507654321")
    sent_on = linked.esl.queue_caller(SUPPORT, caller_num="0508888888")
    wait(lambda: len(linked.waiting()) == 2, "two callers waiting")
    hangs_up.offer_to("101")  # ringing the agent when the caller hangs up
    hangs_up.abandon()
    sent_on.time_out()
    wait(lambda: linked.waiting() == [], "no one waiting")
    figures = today(engine, org, SUPPORT)
    assert (figures.offered, figures.answered, figures.abandoned) == (2, 0, 1)
    ended = {detail(e)["call_id"]: e.kind for e in queue_events(engine, org)[2:]}
    assert ended == {hangs_up.session_uuid: QUEUE_ABANDONED, sent_on.session_uuid: QUEUE_LEFT}


def test_a_reconnect_reads_the_callers_waiting_and_forgets_those_gone(linked: Linked) -> None:
    engine, org, esl = linked.engine, linked.org.name, linked.esl
    gone = esl.queue_caller(SUPPORT, caller_num="0501111111")
    stays = esl.queue_caller(SUPPORT, caller_num="0502222222")
    wait(lambda: len(linked.waiting()) == 2, "two callers waiting")
    accepted = esl.connections_accepted
    esl.stop_listening()  # the link loses FreeSWITCH; meanwhile, unseen:
    esl.drop_connections()
    gone.abandon()  # still listed, Abandoned and without its session
    came = esl.queue_caller(SUPPORT, caller_num="", waited=30)
    esl.start_listening()
    wait(lambda: esl.connections_accepted > accepted, "the link back", RECONNECT_SECONDS)
    wait(
        lambda: {c for c, _ in linked.waiting()} == {stays.session_uuid, came.session_uuid},
        "the callers as queue list members lists them",
    )
    now = queue_now(engine, org, SUPPORT)
    assert now is not None
    assert now.waiting[0].caller == QueueCaller(SUPPORT, came.session_uuid, "")  # 30 s ago
    assert now_ms() - now.waiting[0].joined_ms >= 29_000
    left = [e for e in queue_events(engine, org) if e.kind == QUEUE_LEFT]
    assert [detail(e)["call_id"] for e in left] == [gone.session_uuid]


def test_callers_of_a_queue_not_configured_and_malformed_events_are_ignored(
    linked: Linked,
) -> None:
    engine, org, esl = linked.engine, linked.org.name, linked.esl
    accepted = esl.connections_accepted
    join = recorded(JOIN_LINE)
    esl.replay(
        [
            {**join, "CC-Queue": "sales@default", "CC-Member-Session-UUID": "elsewhere"},
            {**join, "CC-Member-Session-UUID": ""},  # sent as _undef_, as FreeSWITCH does
            {**join, "CC-Member-Session-UUID": "u" * 300},
            {
                **recorded(ANSWER_LINE),
                "CC-Member-Session-UUID": "s9",
                "CC-Agent-Answered-Time": "x",
            },
        ]
    )
    elsewhere = esl.queue_caller("sales@default", caller_num="0503333333")
    ours = esl.queue_caller(SUPPORT, caller_num="0504444444")
    # Events are handled in order: once ours is waiting, the others were read.
    wait(lambda: linked.waiting() == [(ours.session_uuid, "0504444444")], "ours waiting")
    elsewhere.abandon()
    assert esl.connections_accepted == accepted
    assert pbx_settings.pbx_state(engine, org).connected  # type: ignore[union-attr]
    assert queue_now(engine, org, "sales@default") is None
    assert [(e.kind, detail(e)["call_id"]) for e in queue_events(engine, org)] == [
        (QUEUE_ANSWERED, "s9"),  # agent 2 is nobody here; no believable wait
        (QUEUE_JOINED, ours.session_uuid),
    ]
    assert detail(queue_events(engine, org)[0])["wait_ms"] is None
