"""A real server connected to a loopback Asterisk (AMI over TCP): statuses become queue
membership and pauses, pauses at the phone become statuses, drift is repaired on connect."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from agentstatus.pbx.phone import STALE_ECHO_SECONDS
from agentstatus.service import presence
from tests.support.ami_server import AmiServer, Member
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, use_asterisk, wait_state
from tests.support.server import ServerProcess
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
