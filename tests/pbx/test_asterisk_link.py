"""A real server connected to a loopback Asterisk (AMI over TCP): statuses become queue
membership and pauses, pauses at the phone become statuses, drift is repaired on connect."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.pbx.phone import STALE_ECHO_SECONDS
from agentstatus.service import history, presence
from agentstatus.service.tokens import Role, create_token
from tests.support.ami_server import AmiServer, Member
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, RECONNECT_SECONDS, extension_calls, use_asterisk, wait_state
from tests.support.server import ServerProcess
from tests.support.sse import Subscriber
from tests.support.wire import set_status

QUEUES = ("support", "sales")


def _in_queues(ami: AmiServer, interface: str) -> dict[str, Member]:
    return {q: m for (q, i), m in ami.members().items() if i == interface}


def test_each_status_sets_membership_and_pause_in_every_queue(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(
                lambda: (
                    {q: m.paused for q, m in _in_queues(ami, "PJSIP/sip1").items()}
                    == {"support": False, "sales": False}
                ),
                what="Login: a member of both queues, unpaused",
            )
            member = _in_queues(ami, "PJSIP/sip1")["support"]
            assert member.member_name == "Agent 1"
            set_status(server.base_url, org.code, "101", "sip1", 3)
            ami.wait_for(
                lambda: (
                    {(m.paused, m.reason) for m in _in_queues(ami, "PJSIP/sip1").values()}
                    == {(True, "Lunch break")}
                ),
                what="Lunch break: paused in both, with the status's name as the reason",
            )
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(
                lambda: {m.paused for m in _in_queues(ami, "PJSIP/sip1").values()} == {False},
                what="back to Login: unpaused",
            )
            set_status(server.base_url, org.code, "101", "sip1", 2)
            ami.wait_for(lambda: not _in_queues(ami, "PJSIP/sip1"), what="Logout: removed")
            assert ami.max_outstanding == 1
            # Nothing at the phone changed the status back (no echo).
            agents = {a.user_id: a for a in presence.list_presence(engine, org.name)}
            assert agents["101"].status == 2


def test_a_pause_at_the_phone_becomes_a_status_with_source_pbx(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(lambda: len(_in_queues(ami, "PJSIP/sip1")) == 2, what="added")

            def status() -> int:
                found = {a.user_id: a for a in presence.list_presence(engine, org.name)}
                return found["101"].status

            ami.pause_at_phone("PJSIP/sip1", True, "Training")
            ami.wait_for(lambda: status() == 11, what="a reason naming a status takes it")
            # A change at the phone within a second of agentstatus's own opposite command
            # is taken for its late echo (docs/pbx.md); a person's comes later.
            time.sleep(STALE_ECHO_SECONDS)
            ami.pause_at_phone("PJSIP/sip1", False)
            ami.wait_for(lambda: status() == 1, what="an unpause takes Login")
            time.sleep(STALE_ECHO_SECONDS)
            ami.pause_at_phone("PJSIP/sip1", True, "coffee")
            ami.wait_for(lambda: status() == 9, what="another reason takes Other")
            ami.wait_for(
                lambda: {m.reason for m in _in_queues(ami, "PJSIP/sip1").values()} == {"Other"},
                what="the phone system is told the status it now has, in every queue",
            )
            by_phone = [
                e.new_status
                for e in history.read_history(engine, org.name).events
                if e.source == "pbx"
            ]
            assert by_phone == [11, 1, 9]  # the changes made at the phone, and only those


def test_calls_appear_and_disappear_in_get_extensions_calls_and_on_the_stream(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.ADMIN, org.name).token
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            events_url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
            with Subscriber(events_url, token) as stream:
                stream.wait_for(1)
                call = ami.call_in("sip1", caller_num="0501234567", caller_name="Dana", did="0390")
                ami.wait_for(
                    lambda: bool(extension_calls(server.base_url, org.code)["sip1"]), what="call"
                )
                (ringing,) = extension_calls(server.base_url, org.code)["sip1"]
                assert ringing["callstatus"] == "Ringing"
                assert ringing["direction"] == "Incoming"
                assert (ringing["callername"], ringing["callerphone"]) == ("Dana", "0501234567")
                assert ringing["did"] == "0390"
                assert ringing["answered"] == 0
                assert ringing["ivrid"] == call.extension_uniqueid
                call.answer()
                ami.wait_for(
                    lambda: (
                        extension_calls(server.base_url, org.code)["sip1"][0]["callstatus"]
                        == "Talking"
                    ),
                    what="answered",
                )
                call.hold()
                ami.wait_for(
                    lambda: (
                        extension_calls(server.base_url, org.code)["sip1"][0]["callstatus"]
                        == "Hold"
                    ),
                    what="on hold",
                )
                call.unhold()
                call.hangup()
                ami.wait_for(
                    lambda: not extension_calls(server.base_url, org.code)["sip1"], what="ended"
                )
                seen = stream.wait_for(6)
            types = [e.event for e in seen[1:]]
            assert types == [
                "call.started",
                "call.answered",
                "call.held",
                "call.resumed",
                "call.ended",
            ]
            ended = seen[-1].data
            assert ended["user_id"] == "101"
            assert ended["source"] == "pbx"
            assert ended["call"]["id"] == call.extension_uniqueid
            assert ended["call"]["caller_number"] == "0501234567"
            item = next(
                e
                for e in httpx.get(
                    f"{server.base_url}/comet/API/GetExtensionsCalls", params={"code": org.code}
                ).json()["EXTENSIONS"]
                if e["username"] == "sip1"
            )
            assert item["representative"] == "Agent 1"
            assert item["userID"] == item["onlineUserID"] == 101


def test_a_connection_lost_mid_call_leaves_no_phantom_call(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
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
            ami.stop_listening()
            ami.wait_for(
                lambda: not extension_calls(server.base_url, org.code)["sip1"], what="no phantom"
            )
            ami.start_listening()
            # Back: the call still in progress is found in the channel list.
            ami.wait_for(
                lambda: (
                    [c["callstatus"] for c in extension_calls(server.base_url, org.code)["sip1"]]
                    == ["Talking"]
                ),
                timeout=RECONNECT_SECONDS,
                what="found again after the reconnect",
            )
            call.hangup()
            ami.wait_for(
                lambda: not extension_calls(server.base_url, org.code)["sip1"], what="ended"
            )
