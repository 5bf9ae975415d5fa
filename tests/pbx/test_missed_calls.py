"""Missed calls against the loopback phone systems (SPEC 8): calls offered to an agent that
ring out unanswered (Asterisk ``AgentRingNoAnswer``, FreeSWITCH ``bridge-agent-fail``) are
recorded as ``agent.missed_call`` events, and the organisation's rule moves the agent after
N in a row (source ``pbx``, reason ``missed-calls``), which pauses them at the phone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from agentstatus.domain.event_types import MISSED_CALL_EVENT, MISSED_CALLS_REASON
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.pbx_config import make_config
from agentstatus.pbx.asterisk import Asterisk
from agentstatus.service import missed_calls, presence, webhooks
from agentstatus.service.history import HistoryEvent
from agentstatus.storage.key_file import secret_box_for
from tests.support.ami_recording import QUEUE, RING_NO_ANSWER, rewrite, segment
from tests.support.ami_server import AmiServer, QueueCall
from tests.support.esl_server import EslServer
from tests.support.factories import OrgFixture, make_org
from tests.support.history import all_history
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, PBX_KEY, use_asterisk, use_freeswitch, wait_state
from tests.support.receiver import LOOPBACK, Receiver
from tests.support.wire import set_status

QUEUES = ("support", "sales")
FS_QUEUES = ("support@default", "sales@default")
RING_SECONDS = 0.2
"""The queue's ring timeout in these tests (queues.conf ``timeout``)."""


def test_each_recorded_ring_no_answer_is_a_missed_offer_of_the_member() -> None:
    """Recorded: Missy (Local/p9@noanswer) rung three times for 3 s, never answering."""
    config = make_config(
        "asterisk",
        "127.0.0.1",
        queues=["support"],
        username="agentstatus",
        interface="Local/{extension}@noanswer",
    )
    phone = Asterisk(config, "s", LOOPBACK, extensions=frozenset({"sip9"}))
    messages = rewrite(segment(RING_NO_ANSWER, QUEUE), {"p9": "sip9"})
    found = [e for m in messages for e in phone.interpret(m) if isinstance(e, MissedOffer)]
    assert found == [MissedOffer("Local/sip9@noanswer", "support", 3000)] * 3
    other_queue = {**next(m for m in messages if m["Event"] == "AgentRingNoAnswer"), "Queue": "x"}
    assert phone.interpret(other_queue) == []  # a queue not configured is not ours


@pytest.fixture
def pbx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process server reads its settings from the environment, as ``serve`` does."""
    for key, value in PBX_ENV.items():
        monkeypatch.setenv(key, value)


def _status(engine: Engine, org: str, user_id: str = "101") -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org)}[user_id]


def _missed(engine: Engine, org: str) -> list[HistoryEvent]:
    return [e for e in all_history(engine, org) if e.kind == MISSED_CALL_EVENT]


def _counts(engine: Engine, org: str) -> list[int]:
    return [orjson.loads(e.detail or "{}")["count"] for e in _missed(engine, org)]


def _moved(engine: Engine, org: str) -> list[HistoryEvent]:
    return [e for e in all_history(engine, org) if e.reason == MISSED_CALLS_REASON]


def wait(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Asterisk_:
    """An organisation on the AMI test server, served in process, agent 101 at sip1 in
    Login (a member of both queues, unpaused)."""

    def __init__(self, engine: Engine, org: OrgFixture, ami: AmiServer, base_url: str) -> None:
        self.engine, self.org, self.ami, self.base_url = engine, org, ami, base_url

    def ring_out(self, call: QueueCall | None = None) -> QueueCall:
        """One more unanswered offer to sip1 (a new caller, or ``call`` rung again), and
        its missed call recorded."""
        before = len(_missed(self.engine, self.org.name))
        if call is None:
            call = self.ami.queue_call(
                "support", "PJSIP/sip1", caller_num="0501234567", timeout=RING_SECONDS
            )
        else:
            call.ring_again()
        wait(lambda: len(_missed(self.engine, self.org.name)) > before, "the missed call")
        return call

    def paused_as(self) -> set[tuple[bool, str]]:
        return {
            (m.paused, m.reason) for (_, i), m in self.ami.members().items() if i == "PJSIP/sip1"
        }


@pytest.fixture
def asterisk(
    pbx_env: None, database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[Asterisk_]:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            on = Asterisk_(engine, org, ami, server.base_url)
            ami.wait_for(lambda: on.paused_as() == {(False, "")}, what="Login: unpaused")
            yield on


def test_two_unanswered_offers_put_a_login_agent_in_the_chosen_status_and_pause_them(
    asterisk: Asterisk_, database_url: str
) -> None:
    engine, org = asterisk.engine, asterisk.org.name
    missed_calls.set_rule(engine, org, 2, 9)
    box = secret_box_for(database_url, PBX_KEY)
    with Receiver() as receiver:
        webhooks.add_endpoint(
            engine,
            box,
            org,
            receiver.url,
            [MISSED_CALL_EVENT],
            outbound=LOOPBACK,
            secret=receiver.secret,
        )
        call = asterisk.ring_out()
        assert _status(engine, org) == 1  # one is not two
        asterisk.ring_out(call)
        wait(lambda: _status(engine, org) == 9, "Other after two missed calls")
        asterisk.ami.wait_for(
            lambda: asterisk.paused_as() == {(True, "Other")},
            what="paused in both queues, the status's name as the reason",
        )
        # Deliveries to one endpoint may be attempted at once (up to 10): they may arrive
        # in any order; the event id tells theirs.
        received = [orjson.loads(r.body) for r in receiver.wait_for(2)]
        delivered = sorted(received, key=lambda body: int(body["id"]))
    missed = _missed(engine, org)
    assert [orjson.loads(e.detail or "") for e in missed] == [
        {"count": 1, "queue": "support", "ring_ms": missed_ring(missed[0])},
        {"count": 2, "queue": "support", "ring_ms": missed_ring(missed[1])},
    ]
    assert all(e.source == "pbx" and e.new_status == e.prev_status == 1 for e in missed)
    assert all(missed_ring(e) >= RING_SECONDS * 1000 for e in missed)
    (moved,) = _moved(engine, org)
    assert (moved.source, moved.prev_status, moved.new_status) == ("pbx", 1, 9)
    assert moved.id > missed[1].id
    assert [d["type"] for d in delivered] == [MISSED_CALL_EVENT] * 2
    assert delivered[1]["detail"]["count"] == 2
    assert delivered[1]["user_id"] == "101"


def missed_ring(event: HistoryEvent) -> int:
    ring: int = orjson.loads(event.detail or "{}")["ring_ms"]
    return ring


def test_an_answered_call_between_starts_the_count_again(asterisk: Asterisk_) -> None:
    engine, org = asterisk.engine, asterisk.org.name
    missed_calls.set_rule(engine, org, 2, 9)
    call = asterisk.ring_out()
    answered = asterisk.ami.queue_call("support", "PJSIP/sip1", caller_num="0509999999")
    answered.answer()
    answered.hangup()
    asterisk.ring_out(call)
    asterisk.ring_out(call)
    wait(lambda: _status(engine, org) == 9, "Other after two missed calls in a row")
    assert _counts(engine, org) == [1, 1, 2]
    (moved,) = _moved(engine, org)
    assert moved.id > _missed(engine, org)[2].id


def test_a_status_change_starts_the_count_again(asterisk: Asterisk_) -> None:
    engine, org = asterisk.engine, asterisk.org.name
    missed_calls.set_rule(engine, org, 2, 9)
    call = asterisk.ring_out()
    set_status(asterisk.base_url, asterisk.org.code, "101", "sip1", 3)
    set_status(asterisk.base_url, asterisk.org.code, "101", "sip1", 1)
    asterisk.ring_out(call)
    asterisk.ring_out(call)
    wait(lambda: _status(engine, org) == 9, "Other after two missed calls in a row")
    assert _counts(engine, org) == [1, 1, 2]


def test_with_the_rule_off_missed_calls_are_recorded_and_nothing_changes(
    asterisk: Asterisk_,
) -> None:
    engine, org = asterisk.engine, asterisk.org.name
    call = asterisk.ring_out()
    asterisk.ring_out(call)
    asterisk.ring_out(call)
    # The link handles the phone system's events in order: once this pause at the phone
    # is a change, any change the missed calls made would be there before it.
    asterisk.ami.pause_at_phone("PJSIP/sip1", True, "Training")
    wait(lambda: _status(engine, org) == 11, "the pause at the phone")
    assert _counts(engine, org) == [1, 2, 3]
    assert _moved(engine, org) == []


class FreeSwitch_:
    def __init__(self, engine: Engine, org: OrgFixture, esl: EslServer) -> None:
        self.engine, self.org, self.esl = engine, org, esl

    def fail(self, cause: str = "NO_ANSWER") -> None:
        before = len(_missed(self.engine, self.org.name))
        offer = self.esl.queue_offer(
            "support@default", "101", caller_num="0501234567", caller_name="Dana"
        )
        offer.fail(cause)
        if cause == "NO_ANSWER":
            wait(lambda: len(_missed(self.engine, self.org.name)) > before, "the missed call")


@pytest.fixture
def freeswitch(
    pbx_env: None, database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[FreeSwitch_]:
    org = make_org(engine)
    with EslServer(queues=FS_QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, FS_QUEUES)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(
                lambda: "101" in esl.agents() and esl.agents()["101"].status == "Available",
                what="Login: Available",
            )
            yield FreeSwitch_(engine, org, esl)


def test_freeswitch_two_failed_offers_put_the_agent_on_break(freeswitch: FreeSwitch_) -> None:
    engine, org = freeswitch.engine, freeswitch.org.name
    missed_calls.set_rule(engine, org, 2, 9)
    # Another agent answered a ring-all call: not this agent's missed call.
    freeswitch.fail("ORIGINATOR_CANCEL")
    freeswitch.fail()
    freeswitch.fail()
    wait(lambda: _status(engine, org) == 9, "Other after two missed calls")
    freeswitch.esl.wait_for(
        lambda: freeswitch.esl.agents()["101"].status == "On Break", what="On Break"
    )
    assert _counts(engine, org) == [1, 2]
    missed = _missed(engine, org)
    assert {orjson.loads(e.detail or "")["queue"] for e in missed} == {"support@default"}
    (moved,) = _moved(engine, org)
    assert (moved.source, moved.new_status) == ("pbx", 9)
