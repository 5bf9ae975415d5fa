"""Wrap-up through a loopback FreeSWITCH (event socket, mod_callcenter): an answered call's
end puts a Login agent in wrap-up and the agent is set On Break at the phone system."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from agentstatus.domain.wrap_up import WrapUpMode
from agentstatus.service import history, presence
from agentstatus.service.wrap_up import set_wrap_up
from tests.support.esl_server import EslServer
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, extension_calls, use_freeswitch, wait_state
from tests.support.server import ServerProcess
from tests.support.wire import set_status

QUEUES = ("support@default", "sales@default")


def _status(engine: Engine, org: str) -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org)}["101"]


def test_an_answered_call_puts_the_agent_in_wrap_up_and_on_break(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    set_wrap_up(engine, org.name, WrapUpMode.MANUAL, None, None)
    with EslServer(queues=QUEUES) as esl:
        use_freeswitch(engine, database_url, org.name, esl, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.wait_for(
                lambda: "101" in esl.agents() and esl.agents()["101"].status == "Available",
                what="Login: Available",
            )
            sent_before = len(esl.commands("api callcenter_config agent set status 101"))
            call = esl.call_in("sip1", caller_num="0527654321", caller_name="Noa", did="0391")
            call.answer()
            esl.wait_for(
                lambda: (
                    [c["callstatus"] for c in extension_calls(server.base_url, org.code)["sip1"]]
                    == ["Talking"]
                ),
                what="answered",
            )
            call.hangup()
            ended = time.monotonic()
            esl.wait_for(lambda: _status(engine, org.name) == 13, timeout=1.0, what="wrap-up")
            esl.wait_for(
                lambda: esl.agents()["101"].status == "On Break",
                timeout=max(0.1, 1.0 - (time.monotonic() - ended)),
                what="On Break at the phone system within a second of the hang-up",
            )
            sent = esl.commands("api callcenter_config agent set status 101")[sent_before:]
            assert [c.line for c in sent][-1].endswith("'On Break'")
    started = [e for e in history.read_history(engine, org.name).events if e.new_status == 13]
    assert [(e.kind, e.source, e.reason) for e in started] == [
        ("agent.wrap_up_started", "pbx", "wrap-up")
    ]
