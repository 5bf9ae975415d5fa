"""A real server connected to a loopback FreeSWITCH (event socket over TCP, mod_callcenter):
statuses become agents' statuses, contacts and tiers; a status set at the phone becomes a
status change; drift is repaired on connect; calls show in GetExtensionsCalls."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from agentstatus.service import history, presence
from tests.support.esl_server import EslServer, recorded
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
            esl.status_at_phone("101", "On Break")
            esl.wait_for(lambda: _status(engine, org.name, "101") == 9, what="a break at the phone")
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


def _agent_status(esl: EslServer, name: str) -> str | None:
    agent = esl.agents().get(name)
    return None if agent is None else agent.status


def _set_status_sent(esl: EslServer, agent: str) -> int:
    return len(esl.commands(f"api callcenter_config agent set status {agent} "))


def _marker(esl: EslServer, base_url: str, code: str, status: int, expect: str) -> None:
    """Agent 102 changes through the API and the phone system gets it: the link has followed
    the history up to there, so anything it was going to send before has been sent."""
    set_status(base_url, code, "102", "sip2", status)
    esl.wait_for(lambda: _agent_status(esl, "102") == expect, what=f"102 {expect}")


def test_changes_at_the_phone_are_status_changes_and_are_not_sent_back(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Items 11 and 12 of issue 21, with the events a real FreeSWITCH sent (replayed)."""
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(lambda: _agent_status(esl, "101") == "Available", what="Login")

            def at_phone(status: str) -> None:
                # What FreeSWITCH sends for `callcenter_config agent set status 1 'On Break'`
                # (recording lines 1 and 2), for agent 101 and this status.
                esl.set_agent("101", contact="user/sip1", status=status)
                argument = f"agent set status 101 '{status}'"
                esl.replay(
                    [
                        recorded(1, {"CC-Agent": "101", "CC-Agent-Status": status}),
                        recorded(2, {"API-Command-Argument": argument}),
                    ]
                )

            for status, becomes, marker in (
                ("On Break", 9, (3, "On Break")),
                ("Available", 1, (1, "Available")),
                ("Logged Out", 2, (3, "On Break")),
            ):
                sent = _set_status_sent(esl, "101")
                at_phone(status)
                esl.wait_for(
                    lambda b=becomes: _status(engine, org.name, "101") == b,  # type: ignore[misc]
                    what=f"{status} at the phone becomes {becomes}",
                )
                _marker(esl, server.base_url, org.code, *marker)
                assert _set_status_sent(esl, "101") == sent, f"{status} was sent back"
                assert esl.agents()["101"].status == status
            last = history.read_history(engine, org.name).events
            mine = [e for e in last if e.user_id == "101"]
            assert [(e.new_status, e.source) for e in mine[-3:]] == [
                (9, "pbx"),
                (1, "pbx"),
                (2, "pbx"),
            ]
            # A reconnect (and its reconcile) keeps the logout made at the phone.
            before = wait_state(engine, org.name, lambda s: s.reconcile_ms is not None)
            esl.drop_connections()
            wait_state(
                engine,
                org.name,
                lambda s: s.connected and (s.reconcile_ms or 0) > (before.reconcile_ms or 0),
                RECONNECT_SECONDS,
            )
            _marker(esl, server.base_url, org.code, 1, "Available")
            assert esl.agents()["101"].status == "Logged Out"
            assert _status(engine, org.name, "101") == 2


def test_an_agent_deleted_at_the_phone_system_is_set_up_again_at_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Item 10 of issue 21: no 'Agent not found' every 2 s, no reconnect."""
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)

            def seated(status: str) -> bool:
                agent = esl.agents().get("101")
                return (
                    agent is not None
                    and (agent.status, agent.contact) == (status, "user/sip1")
                    and {(q, "101") for q in QUEUES} <= esl.tiers()
                )

            esl.wait_for(lambda: seated("Available"), what="Login")
            assert esl.api_elsewhere("callcenter_config agent del 101") == "+OK\n"
            esl.wait_for(lambda: seated("Available"), timeout=2.0, what="set up again")
            # Deleted with no event at all: the next change finds it missing and sets it up.
            esl.remove_agent("101")
            set_status(server.base_url, org.code, "101", "sip1", 3)
            esl.wait_for(lambda: seated("On Break"), timeout=2.0, what="set up with the change")
            assert esl.connections_accepted == 1
            state = wait_state(engine, org.name, lambda s: s.connected)
            assert "Agent not found" not in (state.last_error or "")


def test_a_flooding_event_socket_is_dropped_and_pbx_show_says_why(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Item 24 of issue 21: a recorded change at the phone sent over and over."""
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(lambda: _agent_status(esl, "101") == "Available", what="Login")
            flood = [
                recorded(1, {"CC-Agent": "101", "CC-Agent-Status": "On Break"}),
                recorded(1, {"CC-Agent": "101", "CC-Agent-Status": "Available"}),
            ]
            esl.flood(flood, 20_000)
            state = wait_state(
                engine, org.name, lambda s: "dropped" in (s.last_error or ""), timeout=30
            )
            assert "events a second" in (state.last_error or "")
            # A server that floods every connection is dropped on every reconnect.
            esl.flood(flood, 20_000, every_connection=True)
            esl.wait_for(lambda: esl.connections_accepted >= 3, timeout=60, what="2 retries")
            esl.stop_flood()
            # Not 40,000 status changes: a few hundred at most before each drop.
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT count(*) FROM history")).scalar_one()
            assert rows < 2_000


def test_a_refused_password_backs_off_and_a_new_setting_tries_at_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Item 9 of issue 21, on FreeSWITCH too: a wrong password is not tried every few
    seconds (each try is a failed login in FreeSWITCH's log, what fail2ban counts)."""
    org = make_org(engine)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES, secret="not-the-password")
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV):
            state = wait_state(engine, org.name, lambda s: s.last_error is not None)
            assert "login refused; next try at" in (state.last_error or "")
            assert "not-the-password" not in (state.last_error or "")
            assert not state.connected
            time.sleep(2.0)  # longer than the first backoffs: none may be spent on a refusal
            assert esl.connections_accepted == 1
            use_freeswitch(engine, database_url, org.name, esl, QUEUES)
            wait_state(engine, org.name, lambda s: s.connected, timeout=5.0)
            assert esl.connections_accepted == 2
