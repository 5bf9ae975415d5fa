"""The phone's registration (SPEC.md 8) against the AMI and event-socket test servers, with
the real service in this process: read on connect, followed live (on the board, in
GetExtensions, as ``extension.phone`` events), and the phone-offline policy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from agentstatus.cli.history import describe
from agentstatus.domain.event_types import PHONE_EVENT, PHONE_OFFLINE_REASON
from agentstatus.service import presence
from agentstatus.service.phone_registration import phones_of_org, set_phone_offline
from agentstatus.storage.phone_states import PHONE_DEADLINE
from agentstatus.storage.schema import deadlines
from agentstatus.web.pages.agent_day import line
from tests.support.ami_server import AmiServer
from tests.support.esl_server import EslServer
from tests.support.factories import make_org
from tests.support.history import all_history
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, use_asterisk, use_freeswitch, wait_state
from tests.support.wire import set_status

QUEUES = ("support",)
FS_QUEUES = ("support@default",)


@pytest.fixture(autouse=True)
def _pbx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in PBX_ENV.items():
        monkeypatch.setenv(key, value)


def wait(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``check`` held (AssertionError after ``timeout``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def peer_status(base_url: str, code: str) -> dict[str, object]:
    answer = httpx.get(f"{base_url}/Comet/api/GetExtensions", params={"code": code}).json()
    return {e["SIP"]: e["peerStatus"] for e in answer["EXTENSIONS"]}


def status_of(engine: Engine, org: str, user_id: str) -> int:
    return {a.user_id: a.status for a in presence.list_presence(engine, org)}[user_id]


def phone_deadlines(engine: Engine) -> int:
    with engine.connect() as conn:
        rows = conn.execute(select(deadlines.c.id).where(deadlines.c.kind == PHONE_DEADLINE))
        return len(rows.all())


@pytest.fixture
def asterisk(
    database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[AmiServer, InProcessServer, str, str]]:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        ami.set_phone("sip1", True)
        ami.set_phone("sip2", False)
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            yield ami, server, org.name, org.code


def test_asterisk_phones_are_read_on_connect_and_followed(
    engine: Engine, asterisk: tuple[AmiServer, InProcessServer, str, str]
) -> None:
    ami, server, org, code = asterisk
    wait(lambda: len(phones_of_org(engine, org)) == 2, 5, "DeviceStateList/PJSIPShowContacts")
    # Read on connect: a contact and a device for sip1, an UNAVAILABLE device for sip2;
    # sip3 is not a device Asterisk knows: unknown (null, as Voicenter's peerStatus).
    assert peer_status(server.base_url, code) == {
        "sip1": "registered",
        "sip2": "unregistered",
        "sip3": None,
    }
    assert {a.name for a in ami.actions()} >= {"DeviceStateList", "PJSIPShowContacts"}
    set_status(server.base_url, code, "101", "sip1", 1)
    ami.unregister_phone("sip1")
    took = wait(
        lambda: peer_status(server.base_url, code)["sip1"] == "unregistered", 5, "unregistered"
    )
    assert took < 1.0
    events = [e for e in all_history(engine, org) if e.kind == PHONE_EVENT]
    assert [(e.user_id, e.source, json.loads(e.detail or "{}")) for e in events] == [
        ("101", "pbx", {"extension": "sip1", "phone": "unregistered"})
    ]
    assert events[0].prev_status == events[0].new_status == 1
    # The agent's day and the CLI's history say what it is (not a call).
    assert (line(events[0]).kind, line(events[0]).change) == ("phone", "unregistered")
    assert describe(events[0]) == "sip1 phone unregistered"
    ami.register_phone("sip1")
    wait(lambda: peer_status(server.base_url, code)["sip1"] == "registered", 5, "registered")
    wait(
        lambda: len([e for e in all_history(engine, org) if e.kind == PHONE_EVENT]) == 2,
        5,
        "the second event",
    )


def test_an_extension_nobody_holds_keeps_its_state_without_an_event(
    engine: Engine, asterisk: tuple[AmiServer, InProcessServer, str, str]
) -> None:
    ami, server, org, code = asterisk
    wait(lambda: len(phones_of_org(engine, org)) == 2, 5, "read on connect")
    ami.register_phone("sip2")
    wait(lambda: peer_status(server.base_url, code)["sip2"] == "registered", 5, "registered")
    assert not [e for e in all_history(engine, org) if e.kind == PHONE_EVENT]


def test_phone_offline_moves_the_agent_and_registering_again_cancels(
    engine: Engine, asterisk: tuple[AmiServer, InProcessServer, str, str]
) -> None:
    ami, server, org, code = asterisk
    wait(lambda: len(phones_of_org(engine, org)) == 2, 5, "read on connect")
    set_phone_offline(engine, org, 2, 9)
    set_status(server.base_url, code, "101", "sip1", 1)
    # Unregistered, then registered again within the 2 s: the deadline is deleted.
    ami.unregister_phone("sip1")
    wait(lambda: phone_deadlines(engine) == 1, 5, "the deadline planned")
    ami.register_phone("sip1")
    wait(lambda: phone_deadlines(engine) == 0, 5, "the deadline cancelled")
    time.sleep(2.5)  # past when it would have been due: nothing acted
    assert status_of(engine, org, "101") == 1
    # Unregistered for good: after 2 s the agent is in status 9, as the phone system said.
    ami.unregister_phone("sip1")
    wait(lambda: status_of(engine, org, "101") == 9, 6, "moved to Other")
    change = [e for e in all_history(engine, org) if e.new_status == 9][-1]
    assert change.source == "pbx"
    assert (change.reason, change.policy) == (PHONE_OFFLINE_REASON, "phone-offline")
    assert change.new_extension == "sip1"
    # The phone system was told: the member is paused, and no deadline is left.
    wait(lambda: all(m.paused for m in ami.members().values()), 5, "paused at the phone")
    wait(lambda: phone_deadlines(engine) == 0, 5, "no deadline left")


def test_a_status_change_cancels_the_deadline(
    engine: Engine, asterisk: tuple[AmiServer, InProcessServer, str, str]
) -> None:
    _, server, org, code = asterisk
    wait(lambda: len(phones_of_org(engine, org)) == 2, 5, "read on connect")
    set_phone_offline(engine, org, 2, 9)
    # Logging in at an extension whose phone is offline plans the deadline too.
    set_status(server.base_url, code, "102", "sip2", 1)
    wait(lambda: phone_deadlines(engine) == 1, 5, "planned after the login")
    set_status(server.base_url, code, "102", "sip2", 3)  # Lunch break: takes no calls
    wait(lambda: phone_deadlines(engine) == 0, 5, "cancelled by the change")
    time.sleep(2.5)
    assert status_of(engine, org, "102") == 3


def test_freeswitch_phones_are_read_on_connect_and_followed(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with EslServer(queues=FS_QUEUES) as esl:
        esl.set_phone("sip1", True)
        use_freeswitch(engine, database_url, org.name, esl, FS_QUEUES)
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            wait(lambda: len(phones_of_org(engine, org.name)) == 3, 5, "sofia status … reg")
            assert peer_status(server.base_url, org.code) == {
                "sip1": "registered",
                "sip2": "unregistered",
                "sip3": "unregistered",
            }
            assert esl.commands("api sofia status profile internal reg")
            set_status(server.base_url, org.code, "101", "sip1", 1)
            esl.unregister_phone("sip1", expired=True)
            took = wait(
                lambda: peer_status(server.base_url, org.code)["sip1"] == "unregistered",
                5,
                "sofia::expire",
            )
            assert took < 1.0
            esl.register_phone("sip1")
            wait(
                lambda: peer_status(server.base_url, org.code)["sip1"] == "registered",
                5,
                "sofia::register",
            )
            esl.unregister_phone("sip1")
            wait(
                lambda: peer_status(server.base_url, org.code)["sip1"] == "unregistered",
                5,
                "sofia::unregister",
            )
            phones = [
                json.loads(e.detail or "{}")["phone"]
                for e in all_history(engine, org.name)
                if e.kind == PHONE_EVENT
            ]
            assert phones == ["unregistered", "registered", "unregistered"]
