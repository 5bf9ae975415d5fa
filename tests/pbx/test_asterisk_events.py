"""The Asterisk adapter reads what a real Asterisk sent (replayed from the recording, and
from the loopback server that answers as it does): one call is one call (a Local
channel's ``;2`` half and ``Linkedid``), ``/n`` members match their channels, a login
straight into a pause is one ``QueueAdd``, member changes at the phone are drift."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agentstatus.domain.calls import Changed, Direction
from agentstatus.pbx.asterisk import Asterisk
from agentstatus.pbx.config import make_config
from agentstatus.pbx.phone import Drift, PhoneEvent, Resync
from agentstatus.pbx.seats import Seat, SeatState
from tests.support.ami_recording import (
    CALL_RINGALL,
    CALL_TO_P2,
    CALL_TO_P2_TALKING,
    QUEUE,
    RING_NO_ANSWER,
    first,
    rewrite,
    segment,
    until,
)
from tests.support.ami_server import AmiServer
from tests.support.receiver import LOOPBACK

AGENTS = {"p1": "sip1", "p2": "sip2"}
QUEUES = ("support", "sales")


def adapter(port: int = 5038, interface: str = "Local/{extension}@agents") -> Asterisk:
    config = make_config(
        "asterisk",
        "127.0.0.1",
        port=port,
        queues=list(QUEUES),
        username="agentstatus",
        interface=interface,
    )
    return Asterisk(
        config, "ami-secret-0001", LOOPBACK, timeout=2, extensions=frozenset({"sip1", "sip2"})
    )


def calls_of(events: list[PhoneEvent]) -> list[tuple[str, str, str]]:
    return [
        (e.change.value, e.call.extension, e.call.direction.value)
        for e in events
        if isinstance(e, Changed)
    ]


def interpret_all(phone: Asterisk, messages: list[dict[str, str]]) -> list[PhoneEvent]:
    return [event for m in messages for event in phone.interpret(m)]


def test_a_queue_call_to_a_local_member_is_one_call() -> None:
    """Recorded: the queue rings Local/p2@agents; its ;2 half (state Ring, Exten p2) is the
    member's dialplan, not Eli dialling out."""
    phone = adapter()
    found = calls_of(interpret_all(phone, rewrite(segment(CALL_TO_P2), AGENTS)))
    assert found == [
        ("started", "sip2", "in"),
        ("answered", "sip2", "in"),
        ("ended", "sip2", "in"),
    ]


@pytest.mark.parametrize(
    "interface", ["Local/{extension}@agents", "Local/{extension}@agents/n"], ids=["plain", "/n"]
)
def test_a_ringall_call_rings_each_member_once_whatever_the_options(interface: str) -> None:
    """Recorded after the interface became …/n: Asterisk names the channels without /n."""
    phone = adapter(interface=interface)
    found = calls_of(interpret_all(phone, rewrite(segment(CALL_RINGALL), AGENTS)))
    assert sorted(found) == sorted(
        [
            ("started", "sip1", "in"),
            ("ended", "sip1", "in"),
            ("started", "sip2", "in"),
            ("answered", "sip2", "in"),
            ("ended", "sip2", "in"),
        ]
    )


def test_each_ring_of_a_member_that_never_answers_is_a_call_of_its_own() -> None:
    """Recorded: three offers to p9 in one linked call (AgentRingNoAnswer each time); each
    is a call that rang and ended, none merged with the next."""
    config = make_config(
        "asterisk",
        "127.0.0.1",
        queues=["support"],
        username="agentstatus",
        interface="Local/{extension}@noanswer",
    )
    phone = Asterisk(config, "s", LOOPBACK, extensions=frozenset({"sip9"}))
    messages = rewrite(segment(RING_NO_ANSWER, QUEUE), {"p9": "sip9"})
    assert [m["Event"] for m in messages].count("AgentRingNoAnswer") == 3
    found = calls_of(interpret_all(phone, messages))
    assert found == [("started", "sip9", "in"), ("ended", "sip9", "in")] * 3


def test_member_events_from_the_phone_are_drift_and_a_boot_is_a_resync() -> None:
    phone = adapter()
    removed = rewrite([first("QueueMemberRemoved")], AGENTS)[0]
    assert phone.interpret(removed) == []  # not followed: nothing known changed
    added = rewrite([first("QueueMemberAdded")], AGENTS)[0]
    assert phone.interpret(added) == [Drift("Local/sip1@agents")]
    assert phone.interpret(removed) == [Drift("Local/sip1@agents")]
    assert phone.interpret(first("FullyBooted")) == [Resync("Asterisk booted")]
    reload = {"Event": "Reload", "Module": "app_queue.so", "Status": "0"}
    assert phone.interpret(reload) == [Resync("app_queue: Reload")]


@pytest.fixture
async def connected() -> AsyncIterator[tuple[AmiServer, Asterisk]]:
    with AmiServer(queues=QUEUES) as ami:
        phone = adapter(ami.port)
        await phone.connect()
        try:
            yield ami, phone
        finally:
            await phone.close()


async def test_calls_in_progress_after_a_reconnect_are_one_call_each(
    connected: tuple[AmiServer, Asterisk],
) -> None:
    """CoreShowChannels lists both halves of the member's Local channel (AppQueue and the
    dialplan's Wait): the agent has one incoming call, not two."""
    ami, phone = connected
    first_part = until(segment(CALL_TO_P2), CALL_TO_P2_TALKING)
    ami.replay(rewrite(first_part, AGENTS))
    live = await phone.live_calls()
    assert [(c.extension, c.direction, c.state.value) for c in live] == [
        ("sip2", Direction.IN, "Talking")
    ]


async def test_a_login_straight_into_a_pause_is_one_queue_add_with_its_reason(
    connected: tuple[AmiServer, Asterisk],
) -> None:
    ami, phone = connected
    await phone.reconcile({})
    seat = Seat("Local/sip1@agents", SeatState.PAUSED, "Lunch break", "Agent 1", "sip1", "101")
    await phone.apply(seat)
    sent = [(a.name, a.fields.get("Queue")) for a in ami.actions() if a.name.startswith("Queue")]
    assert sent[-2:] == [("QueueAdd", "support"), ("QueueAdd", "sales")]
    assert not ami.actions("QueuePause")
    for add in ami.actions("QueueAdd"):
        assert (add.fields["Paused"], add.fields["Reason"]) == ("true", "Lunch break")
    assert {(m.paused, m.reason) for m in ami.members().values()} == {(True, "Lunch break")}
    assert phone.owned == {("support", "Local/sip1@agents"), ("sales", "Local/sip1@agents")}
