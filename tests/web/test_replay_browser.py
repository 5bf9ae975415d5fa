"""Replay in Chromium over a span with a call: a call's event changes nothing of the
agent's presence, so the replayed board keeps the agent's time in status where its last
change put it (issue 22: it used to restart at the call)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.tokens import Role
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, history, presence
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.support.wire import set_status


def _since(engine: Engine, org: str, user_id: str) -> int:
    with reading(engine) as conn:
        found = conn.execute(
            select(presence.c.since_ms)
            .join(agents, agents.c.id == presence.c.agent_id)
            .where(presence.c.org_id == org_id(conn, org), agents.c.user_id == user_id)
        ).scalar_one()
    return int(found)


def _kinds(engine: Engine, org: str) -> list[str]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return list(
            conn.execute(
                select(history.c.kind).where(history.c.org_id == oid).order_by(history.c.id)
            ).scalars()
        )


def test_replaying_a_call_keeps_the_agents_time_in_status(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    user = add_user(shared_engine, f"replay-call-{org.name}@example.com", Role.SUPERVISOR, org.name)
    base = shared_server.base_url
    set_status(base, org.code, "101", "sip1", 1)
    logged_in = _since(shared_engine, org.name, "101")
    first = time.time()
    time.sleep(2.2)
    # A call at the agent's extension, during the span replayed: an event, not a change.
    with reading(shared_engine) as conn:
        oid = org_id(conn, org.name)
    call = Call("replayed", "sip1", Direction.IN, CallState.RINGING, "Dana", "050", "", now_ms())
    assert store_calls(shared_engine, oid, [Changed(CallChange.STARTED, call)])
    time.sleep(1.2)
    set_status(base, org.code, "102", "sip2", 1)  # after the call: replay got past it
    assert _kinds(shared_engine, org.name) == ["agent.login", "call.started", "agent.login"]

    page.goto(f"{base}/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#board")).to_be_visible()
    at = datetime.fromtimestamp(math.ceil(first) + 0.0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Show the floor as it was at (UTC)").fill(at)
    page.get_by_label("Speed").select_option("1")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "replay")
    agent = page.locator('tr[data-user-id="101"]')
    other = page.locator('tr[data-user-id="102"]')
    expect(agent).to_have_attribute("data-since", str(logged_in))
    expect(other.locator("[data-status]")).to_have_attribute("data-status", "2")
    page.get_by_role("button", name="Play").click()
    expect(other.locator("[data-status]")).to_have_attribute("data-status", "1", timeout=8000)
    # Played past the call: the agent's time in status still counts from its login.
    expect(agent).to_have_attribute("data-since", str(logged_in))
    expect(agent.locator("time-in-status")).to_have_attribute("since", str(logged_in))
    expect(agent.locator("[data-status]")).to_have_attribute("data-status", "1")
