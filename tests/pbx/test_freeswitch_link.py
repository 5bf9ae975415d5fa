"""A real server connected to a loopback FreeSWITCH (event socket over TCP, mod_callcenter):
statuses become agents' statuses, contacts and tiers; a status set at the phone becomes a
status change; drift is repaired on connect; calls show in GetExtensionsCalls."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.pbx.phone import STALE_ECHO_SECONDS
from agentstatus.service import history, presence
from tests.support.esl_server import EslServer
from tests.support.factories import make_org
from tests.support.pbx import (
    PBX_ENV,
    RECONNECT_SECONDS,
    extension_calls,
    use_freeswitch,
    wait_state,
)
from tests.support.server import ServerProcess
from tests.support.wire import set_status

QUEUES = ("support@default", "sales@default")


def _status(engine: Engine, org: str, user_id: str) -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org)}[user_id]


def test_statuses_become_agent_statuses_and_phone_changes_come_back(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(
                lambda: (
                    esl.agents().get("101") is not None
                    and esl.agents()["101"].status == "Available"
                ),
                what="Login: Available",
            )
            agent = esl.agents()["101"]
            assert agent.contact == "user/sip1"
            assert {(q, "101") for q in QUEUES} <= esl.tiers()
            set_status(server.base_url, org.code, "101", "sip1", 3)
            esl.wait_for(lambda: esl.agents()["101"].status == "On Break", what="On Break")
            quoted = esl.commands("api callcenter_config agent set status 101 'On Break'")
            assert quoted, "a multi-word status is sent quoted"
            set_status(server.base_url, org.code, "101", "sip1", 2)
            esl.wait_for(lambda: esl.agents()["101"].status == "Logged Out", what="Logged Out")
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(lambda: esl.agents()["101"].status == "Available", what="again")
            time.sleep(STALE_ECHO_SECONDS)
            esl.status_at_phone("101", "On Break")
            esl.wait_for(lambda: _status(engine, org.name, "101") == 9, what="a break at the phone")
            time.sleep(STALE_ECHO_SECONDS)
            esl.status_at_phone("101", "Available")
            esl.wait_for(lambda: _status(engine, org.name, "101") == 1, what="back at the phone")
            sources = [e.source for e in history.read_history(engine, org.name).events]
            assert sources.count("pbx") == 2
            assert esl.max_outstanding == 1


def test_drift_is_repaired_and_calls_are_served(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            set_status(server.base_url, org.code, "102", "sip2", 7)
            esl.wait_for(
                lambda: (
                    {n: a.status for n, a in esl.agents().items()}
                    == {"101": "Available", "102": "On Break"}
                ),
                what="both seated",
            )
            esl.stop_listening()
            esl.drop_connections()
            wait_state(engine, org.name, lambda s: not s.connected)
            esl.set_agent("101", contact="user/elsewhere", status="On Break")
            esl.remove_tier("sales@default", "102")
            esl.set_agent("103", contact="user/sip3", status="Available")
            esl.start_listening()
            esl.wait_for(
                lambda: (
                    {n: (a.status, a.contact) for n, a in esl.agents().items()}
                    == {
                        "101": ("Available", "user/sip1"),
                        "102": ("On Break", "user/sip2"),
                        "103": ("Logged Out", "user/sip3"),
                    }
                    and ("sales@default", "102") in esl.tiers()
                ),
                timeout=RECONNECT_SECONDS,
                what="drift repaired",
            )
            state = wait_state(engine, org.name, lambda s: s.connected and s.repaired_total > 0)
            assert state.reconcile_repaired == 4, state  # contact, status, tier, 103 logged out
            call = esl.call_in("sip1", caller_num="0527654321", caller_name="Noa", did="0391")

            def calls() -> list[dict[str, object]]:
                answer = httpx.get(
                    f"{server.base_url}/comet/API/GetExtensionsCalls",
                    params={"code": org.code, "extension": "sip1"},
                ).json()
                found: list[dict[str, object]] = answer["EXTENSIONS"][0]["calls"]
                return found

            esl.wait_for(lambda: bool(calls()), what="the call")
            (ringing,) = calls()
            assert (ringing["direction"], ringing["callstatus"]) == ("Incoming", "Ringing")
            assert (ringing["callername"], ringing["callerphone"]) == ("Noa", "0527654321")
            assert ringing["did"] == "0391"
            call.answer()
            esl.wait_for(lambda: calls()[0]["callstatus"] == "Talking", what="answered")
            call.hangup()
            esl.wait_for(lambda: not calls(), what="ended")


def test_a_connection_lost_mid_call_leaves_no_phantom_and_finds_the_call_again(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            set_status(server.base_url, org.code, "102", "sip2", 1)
            incoming = esl.call_in("sip1", caller_num="0527654321", caller_name="Noa", did="0391")
            incoming.answer()
            outgoing = esl.call_out("sip2", dialled="0501112222")
            esl.wait_for(
                lambda: (
                    [c["callstatus"] for c in extension_calls(server.base_url, org.code)["sip1"]]
                    == ["Talking"]
                    and bool(extension_calls(server.base_url, org.code)["sip2"])
                ),
                what="both calls",
            )
            before = extension_calls(server.base_url, org.code)
            esl.stop_listening()
            esl.drop_connections()
            esl.wait_for(
                lambda: not any(extension_calls(server.base_url, org.code).values()),
                what="no phantom",
            )
            esl.start_listening()
            # Back: the calls still in progress are read from FreeSWITCH's channel list.
            esl.wait_for(
                lambda: all(
                    extension_calls(server.base_url, org.code)[x] for x in ("sip1", "sip2")
                ),
                timeout=RECONNECT_SECONDS,
                what="found again after the reconnect",
            )
            after = extension_calls(server.base_url, org.code)
            (talking,) = after["sip1"]
            assert (talking["direction"], talking["callstatus"]) == ("Incoming", "Talking")
            assert (talking["callername"], talking["callerphone"]) == ("Noa", "0527654321")
            assert talking["did"] == "0391"
            assert talking["ivrid"] == before["sip1"][0]["ivrid"]
            assert talking["callStarted"] == before["sip1"][0]["callStarted"]
            (dialing,) = after["sip2"]
            assert (dialing["direction"], dialing["callstatus"]) == ("Outgoing", "Dialing")
            assert (dialing["callerphone"], dialing["did"]) == ("0501112222", "0501112222")
            assert esl.commands("api show channels as json")
            incoming.hangup()
            outgoing.hangup()
            esl.wait_for(
                lambda: not any(extension_calls(server.base_url, org.code).values()), what="ended"
            )
