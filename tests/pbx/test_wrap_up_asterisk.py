"""Calls drive the status through a loopback Asterisk (AMI over TCP): an answered call's end
puts a Login agent in wrap-up and the phone system pauses them; a timed wrap-up's deadline
brings them back; a status queued as next is applied when the call ends."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import Engine, select

from agentstatus.domain.clock import now_ms
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.wrap_up import WrapUpMode
from agentstatus.service import history, presence
from agentstatus.service.deadlines import DeadlineRunner, claim_due
from agentstatus.service.status_change import standalone_changes
from agentstatus.service.tokens import Role, create_token
from agentstatus.service.wrap_up import set_wrap_up
from agentstatus.storage.database import reading
from agentstatus.storage.deadline_plans import Due
from agentstatus.storage.schema import deadlines
from tests.support.ami_server import AmiServer, Member
from tests.support.changes import url_of
from tests.support.factories import OrgFixture, make_org
from tests.support.pbx import PBX_ENV, extension_calls, use_asterisk, wait_state
from tests.support.server import ServerProcess
from tests.support.wire import set_status

QUEUES = ("support", "sales")
SUMMARY = "Summary (wrap-up)"


def _members(ami: AmiServer) -> dict[str, Member]:
    return {q: m for (q, i), m in ami.members().items() if i == "PJSIP/sip1"}


def _status(engine: Engine, org: OrgFixture) -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org.name)}["101"]


def _changes_of_101(engine: Engine, org: OrgFixture) -> list[HistoryEvent]:
    events = history.read_history(engine, org.name, limit=1000).events
    return [e for e in events if e.user_id == "101" and e.call is None]


def _wait(check: object, what: str, timeout: float) -> float:
    """Seconds it took for ``check()`` to hold."""
    assert callable(check)
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.01)
    return time.monotonic() - started


def _answered_call_ends(ami: AmiServer, server: ServerProcess, org: OrgFixture) -> None:
    call = ami.call_in("sip1", caller_num="0501234567", caller_name="Dana", did="0390")
    call.answer()
    ami.wait_for(
        lambda: (
            [c["callstatus"] for c in extension_calls(server.base_url, org.code)["sip1"]]
            == ["Talking"]
        ),
        what="the call answered",
    )
    call.hangup()


def _wrap_up_deadline(engine: Engine) -> tuple[int, int]:
    with reading(engine) as conn:
        row = conn.execute(
            select(deadlines.c.due_ms, deadlines.c.version).where(deadlines.c.kind == "wrap-up")
        ).one()
    return int(row.due_ms), int(row.version)


async def _act(engine: Engine, claimed: list[Due]) -> None:
    async with standalone_changes(url_of(engine)) as changes:
        await DeadlineRunner(engine, changes, lambda _: None).act(claimed)


def test_an_answered_call_puts_the_agent_in_wrap_up_paused_and_the_deadline_returns_them(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    set_wrap_up(engine, org.name, WrapUpMode.TIMED, 3, None)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(
                lambda: {m.paused for m in _members(ami).values()} == {False}, what="Login"
            )
            pauses_before = len(ami.actions("QueuePause"))
            _answered_call_ends(ami, server, org)
            _wait(lambda: _status(engine, org) == 13, "in wrap-up", 1.0)
            _wait(
                lambda: {(m.paused, m.reason) for m in _members(ami).values()} == {(True, SUMMARY)},
                "paused at the phone system in every queue, the reason the status's name",
                1.0,
            )
            sent = ami.actions("QueuePause")[pauses_before:]
            assert {(a.fields["Paused"], a.fields["Reason"]) for a in sent} == {("true", SUMMARY)}
            due, version = _wrap_up_deadline(engine)
            assert 2_000 < due - now_ms() <= 3_000
            # The deadline's time, given: nothing happens before it.
            assert [d for d in claim_due(engine, due - 1, 60_000) if d.kind == "wrap-up"] == []
            claimed = claim_due(engine, due, 60_000)
            assert [(d.kind, d.status, d.version) for d in claimed] == [("wrap-up", 13, version)]
            asyncio.run(_act(engine, claimed))
            assert _status(engine, org) == 1
            ami.wait_for(
                lambda: {m.paused for m in _members(ami).values()} == {False},
                what="unpaused: back in Login",
            )
    started, ended = _changes_of_101(engine, org)[-2:]
    assert (started.kind, started.source, started.reason) == (
        "agent.wrap_up_started",
        "pbx",
        "wrap-up",
    )
    assert (started.prev_status, started.new_status) == (1, 13)
    assert (ended.kind, ended.source, ended.reason) == ("agent.status", "system", "wrap-up-ended")
    assert (ended.prev_status, ended.new_status, ended.due_ms) == (13, 1, due)
    assert ended.policy == "wrap-up"
    with reading(engine) as conn:
        assert conn.execute(select(deadlines).where(deadlines.c.kind == "wrap-up")).all() == []


def test_a_queued_lunch_break_is_applied_when_the_call_ends(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.SUPERVISOR, org.name, label="Dana the supervisor")
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            call = ami.call_in("sip1", caller_num="0501234567", caller_name="Dana", did="0390")
            call.answer()
            ami.wait_for(
                lambda: bool(extension_calls(server.base_url, org.code)["sip1"]), what="call"
            )
            queued = httpx.put(
                f"{server.base_url}/api/v1/orgs/{org.name}/presence/101/next",
                json={"status": 3},
                headers={"Authorization": f"Bearer {token.token}"},
            )
            assert queued.status_code == 202, queued.text
            assert (queued.json()["status"], queued.json()["next_status"]) == (1, 3)
            assert _status(engine, org) == 1  # queued, not applied
            call.hangup()
            _wait(lambda: _status(engine, org) == 3, "the lunch break applied", 1.0)
            ami.wait_for(
                lambda: (
                    {(m.paused, m.reason) for m in _members(ami).values()}
                    == {(True, "Lunch break")}
                ),
                what="paused for lunch",
            )
    asked, applied = _changes_of_101(engine, org)[-2:]
    assert (asked.kind, asked.source, asked.actor) == (
        "agent.next_status",
        "supervisor",
        "Dana the supervisor",
    )
    assert (asked.prev_status, asked.new_status) == (1, 1)
    assert asked.detail is not None
    assert orjson.loads(asked.detail) == {"status": 3}
    assert (applied.kind, applied.source, applied.reason) == (
        "agent.status",
        "supervisor",
        "next-status",
    )
    assert (applied.prev_status, applied.new_status) == (1, 3)
