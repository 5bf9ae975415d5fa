"""Limits and the shift end through a real server (in this process but for the restart),
with limits of a second: the warning, login and logout actions with their events, history
rows and webhooks; a deadline that passed while the server was down, acted on when it
starts; the shift end's logouts."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
import orjson
from sqlalchemy import Engine, insert

from agentstatus.domain.clock import now_ms
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.events import signing
from agentstatus.service import history, policies
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.database import reading
from agentstatus.storage.schema import deadlines
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.receiver import LOOPBACK_ENV, Receiver
from tests.support.server import ServerProcess
from tests.support.sse import Subscriber
from tests.support.wire import set_status


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _policy_rows(
    engine: Engine, org: str, timeout: float, count: int
) -> list[history.HistoryEvent]:
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in history.read_history(engine, org, limit=1000).events if e.policy]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_warn_login_and_logout_with_events_history_and_webhooks(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    token = create_token(engine, Role.ADMIN, org.name).token
    policies.set_limit(engine, org.name, 3, Limit(1, LimitAction.WARN))
    policies.set_limit(engine, org.name, 5, Limit(1, LimitAction.LOGIN))
    policies.set_limit(engine, org.name, 7, Limit(1, LimitAction.LOGOUT))
    with (
        Receiver() as receiver,
        InProcessServer(database_url, tmp_path / "server.log", env=LOOPBACK_ENV) as server,
    ):
        hook = httpx.post(
            f"{server.base_url}/api/v1/orgs/{org.name}/webhooks",
            json={"url": receiver.url, "secret": receiver.secret},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert hook.status_code == 201, hook.text
        events_url = f"{server.base_url}/api/v1/orgs/{org.name}/events"
        with Subscriber(events_url, token) as stream:
            stream.wait_for(1)
            set_status(server.base_url, org.code, "101", "sip1", 3)
            set_status(server.base_url, org.code, "102", "sip2", 5)
            set_status(server.base_url, org.code, "103", "sip3", 7)
            seen = stream.wait_for(7, timeout=10)
        by_policy = {e.data.get("policy"): e for e in seen[1:] if e.data.get("policy")}
        assert set(by_policy) == {"limit:warn", "limit:login", "limit:logout"}
        warn = by_policy["limit:warn"]
        assert warn.event == "agent.overdue"
        assert warn.data["user_id"] == "101"
        assert warn.data["previous"] == warn.data["new"] == {"extension": "sip1", "status": 3}
        assert warn.data["source"] == "system"
        login = by_policy["limit:login"]
        assert (login.event, login.data["user_id"]) == ("agent.status", "102")
        assert login.data["new"] == {"extension": "sip2", "status": 1}
        logout = by_policy["limit:logout"]
        assert (logout.event, logout.data["user_id"]) == ("agent.logout", "103")
        for event in by_policy.values():
            due, at = _ms(str(event.data["due"])), _ms(str(event.data["at"]))
            assert 0 <= at - due < 2000, event.data  # acted on within 2 s of passing

        bodies = [orjson.loads(r.body) for r in receiver.wait_for(6)]
        hooked = {b.get("policy"): b for b in bodies if b.get("policy")}
        assert set(hooked) == {"limit:warn", "limit:login", "limit:logout"}
        assert hooked["limit:warn"]["type"] == "agent.overdue"
        overdue = [
            r for r in receiver.received if orjson.loads(r.body).get("policy") == "limit:warn"
        ]
        assert overdue[0].headers[signing.EVENT_ID_HEADER] == str(warn.id)

        api = httpx.get(
            f"{server.base_url}/api/v1/orgs/{org.name}/history",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["events"]
        rows = [(e["user_id"], e["new"]["status"], e["source"], e["policy"]) for e in api]
        assert ("101", 3, "system", "limit:warn") in rows
        assert ("102", 1, "system", "limit:login") in rows
        assert ("103", 2, "system", "limit:logout") in rows
        # One warning per stint: a second later there is still one.
        time.sleep(1.2)
        again = _policy_rows(engine, org.name, 0, 0)
        assert [e.policy for e in again].count("limit:warn") == 1


def test_a_deadline_passed_while_the_server_was_down_is_acted_on_at_start(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    policies.set_limit(engine, org.name, 3, Limit(2, LimitAction.LOGOUT))
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    try:
        set_status(server.base_url, org.code, "101", "sip1", 3)
        server.stop()
        # Until the deadline has passed, with the server down.
        due_ms = history.read_history(engine, org.name).events[0].at_ms + 2000
        time.sleep(max(0, due_ms + 100 - now_ms()) / 1000)
        assert _policy_rows(engine, org.name, 0, 0) == []  # nobody acted while down
        started = now_ms()
        server.start()
        (done,) = _policy_rows(engine, org.name, 10, 1)
    finally:
        server.stop()
    entered = history.read_history(engine, org.name).events[0]
    assert (done.policy, done.new_status, done.source) == ("limit:logout", 2, "system")
    assert done.due_ms == entered.at_ms + 2000  # recorded with the time it was due
    assert done.at_ms >= started > done.due_ms  # and the time it was applied


def test_the_shift_end_logs_out_everyone_logged_in_and_plans_the_next(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    setting = policies.set_shift_end(engine, org.name, "23:59")
    assert setting.next_ms is not None
    with InProcessServer(database_url, tmp_path / "server.log") as server:
        set_status(server.base_url, org.code, "101", "sip1", 1)
        set_status(server.base_url, org.code, "102", "sip2", 3)
        # The planned shift end is up to a day away; another one, due now, is what the
        # planner would have written at the time (its planning is tested on its own).
        with engine.begin() as conn:
            oid = org_id(conn, org.name)
            conn.execute(insert(deadlines).values(org_id=oid, kind="shift", due_ms=now_ms()))
        outs = _policy_rows(engine, org.name, 10, 2)
    assert sorted((e.user_id, e.new_status, e.policy) for e in outs) == [
        ("101", 2, "shift-end"),
        ("102", 2, "shift-end"),
    ]
    with reading(engine) as conn:
        planned = conn.execute(deadlines.select().where(deadlines.c.kind == "shift")).all()
    assert [d.due_ms for d in planned] == [setting.next_ms]  # the next one, once
