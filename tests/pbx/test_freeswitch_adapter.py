"""The FreeSWITCH adapter against the loopback event socket, without a server process: agents
deleted or logged out at the phone system, statuses it already has, and the recorded events
of a real FreeSWITCH replayed (tests/support/recordings/freeswitch-esl.jsonl)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

from agentstatus.domain.calls import CallChange, CallState, Changed, Direction
from agentstatus.domain.pbx_config import make_config
from agentstatus.domain.seats import Seat, SeatState
from agentstatus.pbx.freeswitch import FreeSwitch
from agentstatus.pbx.phone import PauseAtPhone, PhoneEvent
from tests.support.esl_server import EslServer, recorded, recorded_lines
from tests.support.receiver import LOOPBACK

QUEUES = ("support@default", "sales@default")
STATUS_LINE = 1
"""The recording's first line: mod_callcenter's ``agent-status-change`` (agent 1, On Break)."""
API_LINE = 2
"""The ``API`` event of the command that caused it."""


def seat(state: SeatState) -> Seat:
    return Seat(
        "101", state, "Lunch break" if state is SeatState.PAUSED else "", "Dana", "sip1", "101"
    )


async def until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Phone:
    """The adapter, connected, with the link's side played: every event it hands over is
    kept in ``seen``."""

    def __init__(self, esl: EslServer) -> None:
        config = make_config("freeswitch", "127.0.0.1", port=esl.port, queues=list(QUEUES))
        # sip1 for the tests' own calls; 1002 is the agent of the recording.
        self.fs = FreeSwitch(
            config,
            "ClueCon-test-01",
            LOOPBACK,
            timeout=2.0,
            extensions=frozenset({"sip1", "1002"}),
        )
        self.seen: list[PhoneEvent] = []
        self.ended: BaseException | None = None

    async def run(self) -> None:
        try:
            while (batch := await self.fs.events()) is not None:
                self.seen.extend(batch)
        except Exception as exc:  # what ended it, for the test to look at
            self.ended = exc


@pytest.fixture
def esl() -> AsyncIterator[EslServer]:
    with EslServer(queues=QUEUES) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
async def phone(esl: EslServer) -> AsyncIterator[Phone]:
    found = Phone(esl)
    await found.fs.connect()
    await found.fs.reconcile({})
    task = asyncio.create_task(found.run())
    yield found
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await found.fs.close()


def seated(esl: EslServer, status: str) -> bool:
    agent = esl.agents().get("101")
    return (
        agent is not None
        and (agent.status, agent.contact) == (status, "user/sip1")
        and {(q, "101") for q in QUEUES} <= esl.tiers()
    )


async def test_an_agent_deleted_while_connected_is_set_up_again_at_once(
    esl: EslServer, phone: Phone
) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    assert seated(esl, "Available")
    assert esl.api_elsewhere("callcenter_config agent del 101") == "+OK\n"
    assert "101" not in esl.agents()
    # No status change is needed: the API event of the deletion is enough.
    await until(lambda: seated(esl, "Available"), "the agent set up again")
    assert esl.connections_accepted == 1
    assert esl.api_elsewhere("callcenter_config tier del sales@default 101") == "+OK\n"
    await until(lambda: seated(esl, "Available"), "the tier set up again")


async def test_agent_not_found_means_set_the_agent_up_again(esl: EslServer, phone: Phone) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    esl.remove_agent("101")  # gone with no event at all (another switch on the same database)
    await phone.fs.apply(seat(SeatState.PAUSED))
    assert seated(esl, "On Break")
    refused = esl.commands("api callcenter_config agent set status 101 'On Break'")
    assert len(refused) == 2, "refused once (-ERR Agent not found!), then sent after the add"
    assert phone.fs.connected()


async def test_a_reconcile_repairs_a_missing_agent_and_keeps_the_connection(
    esl: EslServer, phone: Phone
) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    esl.remove_agent("101")
    found = await phone.fs.reconcile({"101": seat(SeatState.TAKING)})
    assert (found.checked, found.repaired) == (1, 1)
    assert seated(esl, "Available")
    assert phone.fs.connected()
    assert esl.connections_accepted == 1


async def test_a_status_the_phone_already_has_is_not_sent_again(
    esl: EslServer, phone: Phone
) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    # What FreeSWITCH sent when agent 1 went On Break, for this agent: a change at the phone.
    esl.set_agent("101", contact="user/sip1", status="On Break")
    esl.replay([recorded(STATUS_LINE, {"CC-Agent": "101"})])
    await until(lambda: bool(phone.seen), "the change at the phone")
    assert phone.seen == [PauseAtPhone("101", True, "")]
    sent = len(esl.commands("api callcenter_config agent set status"))
    # The link then applies the status that change became (Other, a break): nothing to send.
    await phone.fs.apply(seat(SeatState.PAUSED))
    assert len(esl.commands("api callcenter_config agent set status")) == sent
    # Agentstatus's own command and its echo (recorded order: the status change, then API).
    await phone.fs.apply(seat(SeatState.TAKING))
    assert esl.agents()["101"].status == "Available"
    await phone.fs.apply(seat(SeatState.TAKING))
    assert len(esl.commands("api callcenter_config agent set status")) == sent + 1
    assert phone.seen == [PauseAtPhone("101", True, "")], "no echo taken for a change"


async def test_a_logout_at_the_phone_is_reported_as_one(esl: EslServer, phone: Phone) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    esl.set_agent("101", contact="user/sip1", status="Logged Out")
    esl.replay(
        [
            recorded(STATUS_LINE, {"CC-Agent": "101", "CC-Agent-Status": "Logged Out"}),
            recorded(API_LINE, {"API-Command-Argument": "agent set status 101 'Logged Out'"}),
        ]
    )
    await until(lambda: bool(phone.seen), "the logout at the phone")
    assert phone.seen == [PauseAtPhone("101", False, "", logged_out=True)]
    sent = len(esl.commands("api callcenter_config agent set status"))
    await phone.fs.apply(seat(SeatState.OUT))  # the Logout it became
    assert len(esl.commands("api callcenter_config agent set status")) == sent
    assert esl.agents()["101"].status == "Logged Out"


async def test_a_status_set_at_the_phone_while_logged_out_here_is_put_back(
    esl: EslServer, phone: Phone
) -> None:
    await phone.fs.apply(seat(SeatState.TAKING))
    await phone.fs.apply(seat(SeatState.OUT))
    assert esl.agents()["101"].status == "Logged Out"
    esl.status_at_phone("101", "Available")  # would ring an agent shown logged out
    await until(lambda: esl.agents()["101"].status == "Logged Out", "Logged Out again")
    assert phone.seen == []


async def test_a_recorded_queue_call_is_one_incoming_call_to_the_agent(
    esl: EslServer, phone: Phone
) -> None:
    """The first call of the recording: a caller (Customer, 5551234) dials the queue's 5000,
    mod_callcenter offers it to agent 2 on sofia/agents/1002@…, who answers; then hupall.
    Only the agent's leg is the extension's call; the loopback and SIP legs are not."""
    esl.replay(recorded_lines(1, 125))
    # (Its caller's joining, answer and leaving of the queue are test_queue_callers_freeswitch's.)
    await until(
        lambda: sum(isinstance(e, Changed) for e in phone.seen) == 3,
        "the call's start, answer and end",
    )
    changes = [e for e in phone.seen if isinstance(e, Changed)]
    assert [c.change for c in changes] == [
        CallChange.STARTED,
        CallChange.ANSWERED,
        CallChange.ENDED,
    ]
    call = changes[0].call
    assert (call.extension, call.direction, call.state) == (
        "1002",
        Direction.IN,
        CallState.RINGING,
    )
    assert (call.caller_name, call.caller_number, call.dialled) == ("Customer", "5551234", "5000")
    assert call.started_ms == 1796593447701583 // 1000  # the leg's Event-Date-Timestamp
