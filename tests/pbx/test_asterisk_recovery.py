"""The connection to Asterisk recovers: drift repaired on reconnect (and counted), a phone
system down then back given the current state (not a replay), failing and slow actions
retried until applied, and with two instances exactly one connection, taken over when its
holder dies."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from agentstatus.app import open_database
from tests.support.ami_server import AmiServer
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, RECONNECT_SECONDS, use_asterisk, wait_state
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess
from tests.support.wire import set_status

QUEUES = ("support", "sales")


def _of(ami: AmiServer, interface: str) -> dict[str, tuple[bool, str]]:
    return {q: (m.paused, m.reason) for (q, i), m in ami.members().items() if i == interface}


def test_down_then_back_gets_the_current_state_and_drift_is_repaired(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            ami.wait_for(lambda: len(_of(ami, "PJSIP/sip1")) == 2, what="sip1 added")
            ami.stop_listening()
            wait_state(engine, org.name, lambda s: not s.connected and s.last_error is not None)
            # While it is down: changes in agentstatus, and drift made at the phone system.
            set_status(server.base_url, org.code, "101", "sip1", 3)
            set_status(server.base_url, org.code, "101", "sip1", 11)
            set_status(server.base_url, org.code, "102", "sip2", 1)
            ami.remove_member("sales", "PJSIP/sip1")
            ami.set_member("support", "PJSIP/sip3", member_name="stray")
            before = len(ami.actions())
            ami.start_listening()
            ami.wait_for(
                lambda: (
                    _of(ami, "PJSIP/sip1") == dict.fromkeys(QUEUES, (True, "Training"))
                    and _of(ami, "PJSIP/sip2") == dict.fromkeys(QUEUES, (False, ""))
                    and not _of(ami, "PJSIP/sip3")
                ),
                timeout=RECONNECT_SECONDS,
                what="the current state after the phone system came back",
            )
            state = wait_state(engine, org.name, lambda s: s.connected and s.repaired_total > 0)
            # sip1: re-added to sales (paused) and re-paused in support; sip2 added to both;
            # sip3's stray member removed.
            assert state.reconcile_repaired == 5, state
            assert state.reconcile_checked == 3
            after = ami.actions()[before:]
            reasons = {a.fields.get("Reason") for a in after if a.name == "QueuePause"}
            assert "Lunch break" not in reasons  # not a replay of every change
            assert ami.max_outstanding == 1


def test_failing_and_slow_actions_are_retried_until_applied(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with AmiServer(queues=QUEUES) as ami:
        use_asterisk(engine, database_url, org.name, ami, QUEUES)
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            ami.fail_next("QueueAdd", 3, message="Out of memory")
            set_status(server.base_url, org.code, "101", "sip1", 1)
            state = wait_state(engine, org.name, lambda s: "Out of memory" in (s.last_error or ""))
            assert "ami-secret" not in (state.last_error or "")
            ami.wait_for(lambda: len(_of(ami, "PJSIP/sip1")) == 2, timeout=15, what="retried")
            # Slower than the 2 s timeout: the connection is dropped and made again.
            ami.set_delay(3.0)
            set_status(server.base_url, org.code, "101", "sip1", 5)
            wait_state(engine, org.name, lambda s: "no answer" in (s.last_error or ""))
            ami.set_delay(0)
            ami.wait_for(
                lambda: (
                    _of(ami, "PJSIP/sip1") == dict.fromkeys(QUEUES, (True, "Administrative time"))
                ),
                timeout=20,
                what="applied once the phone system answers in time",
            )
            assert ami.connections_accepted >= 2


def test_two_instances_hold_one_connection_and_one_takes_over(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = postgres_databases.create()
    engine = open_database(url)
    try:
        org = make_org(engine)
        with AmiServer(queues=QUEUES) as ami:
            use_asterisk(engine, url, org.name, ami, QUEUES)
            first = ServerProcess(url, tmp_path / "a.log", env=PBX_ENV).start()
            second = ServerProcess(url, tmp_path / "b.log", env=PBX_ENV).start()
            try:
                state = wait_state(engine, org.name, lambda s: s.connected)
                time.sleep(3)  # a few lease rounds: the other instance must not connect
                assert ami.sessions == 1
                assert ami.connections_accepted == 1
                holder = state.holder
                pid = holder.split(":")[1] if holder else ""
                victim = first if first.process and str(first.process.pid) == pid else second
                other = second if victim is first else first
                victim.kill()
                killed = time.monotonic()
                taken = wait_state(
                    engine, org.name, lambda s: s.connected and s.holder != holder, timeout=30
                )
                took = time.monotonic() - killed
                assert took < 30
                print(f"\ntakeover after the holder was killed: {took:.1f} s (lease 2 s)")
                assert taken.holder is not None
                set_status(other.base_url, org.code, "101", "sip1", 1)
                ami.wait_for(lambda: len(_of(ami, "PJSIP/sip1")) == 2, what="the new holder acts")
                assert ami.sessions == 1
            finally:
                first.stop()
                second.stop()
    finally:
        engine.dispose()
