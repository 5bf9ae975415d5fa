"""An agent's queues in the panel (issue 24, item 5): the callers waiting in each queue of
the phone system's configuration, asked every few seconds while the panel is in view, in
English and Hebrew; no queue section without a phone system; and the panel's stream still
carries the agent's own events only (a caller's event names a number and, answered, the
agent who answered: nobody else's panel sees it)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms
from agentstatus.domain.queues import CallerChange, CallerEvent, QueueCaller
from agentstatus.service import panel_links
from agentstatus.service.organisations import org_id
from agentstatus.service.panel_links import panel_url
from agentstatus.service.queues import record
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.database import reading
from tests.support.ami_server import AmiServer
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, use_asterisk, wait_state
from tests.support.server import ServerProcess
from tests.support.sse import Subscriber
from tests.support.wire import set_status

PANEL = "agentstatus-panel"


def _oid(engine: Engine, org: str) -> int:
    with reading(engine) as conn:
        return org_id(conn, org)


def test_the_panel_shows_the_callers_waiting_in_the_agents_queues(
    page: Page,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in PBX_ENV.items():
        monkeypatch.setenv(key, value)
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    org = make_org(engine)
    oid = _oid(engine, org.name)
    start = now_ms()
    # A caller in a queue of the phone system that is not configured: in no agent's panel.
    other = QueueCaller("other", f"{start}.0", "")
    record(engine, oid, [CallerEvent(other, CallerChange.JOINED, start)])
    with AmiServer(queues=("support", "sales")) as ami:
        use_asterisk(engine, database_url, org.name, ami, ("support", "sales"))
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected)
            set_status(server.base_url, org.code, "101", "sip1", 3)  # on a lunch break
            page.set_viewport_size({"width": 360, "height": 640})
            link = panel_links.create_link(engine, org.name, "101", "sip1")
            page.goto(panel_url(server.base_url, org.name, link.token))
            panel = page.locator(PANEL)
            expect(panel.locator(".status-name")).to_have_text("Lunch break")
            support = panel.locator('.queue[data-queue="support"]')
            sales = panel.locator('.queue[data-queue="sales"]')
            expect(support).to_have_attribute("data-waiting", "0")
            expect(support).to_have_text("0 waiting in support")
            expect(sales).to_have_attribute("data-waiting", "0")
            expect(panel.locator('.queue[data-queue="other"]')).to_have_count(0)
            # Callers join: the panel asks again within a few seconds, in view.
            callers = [QueueCaller("support", f"{start}.{n}", "0501234567") for n in (1, 2)]
            record(
                engine,
                oid,
                [
                    CallerEvent(callers[0], CallerChange.JOINED, now_ms() - 83_000),
                    CallerEvent(callers[1], CallerChange.JOINED, now_ms()),
                ],
            )
            expect(support).to_have_attribute("data-waiting", "2", timeout=8000)
            expect(support.locator(".queue-waiting")).to_have_text("2 waiting in support")
            expect(support.locator(".queue-longest")).to_have_text(re.compile(r"longest 0:01:2\d"))
            panel.screenshot(path=str(folder / "panel-queues-en.png"))
            # One answered, one abandoned: nobody waits.
            at = now_ms()
            record(
                engine,
                oid,
                [
                    CallerEvent(callers[0], CallerChange.LEFT, at),
                    CallerEvent(callers[0], CallerChange.ANSWERED, at + 1, wait_ms=83_000),
                    CallerEvent(callers[1], CallerChange.ABANDONED, at + 2),
                ],
            )
            expect(support).to_have_attribute("data-waiting", "0", timeout=8000)
            expect(support.locator(".queue-longest")).to_be_hidden()
            # In Hebrew, right to left.
            record(engine, oid, [CallerEvent(callers[1], CallerChange.JOINED, now_ms())])
            address, _, token = panel_url(server.base_url, org.name, link.token).partition("#")
            page.goto(f"{address}?lang=he#{token}")
            support = page.locator(PANEL).locator('.queue[data-queue="support"]')
            expect(support.locator(".queue-waiting")).to_have_text("1 ממתינים בתור support")
            expect(page.locator(PANEL).locator("section")).to_have_attribute("dir", "rtl")
            page.locator(PANEL).screenshot(path=str(folder / "panel-queues-he.png"))
            page.close()  # its requests end before the server stops


def test_without_a_phone_system_the_panel_has_no_queues(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    start = now_ms()
    caller = QueueCaller("support", f"{start}.1", "")
    record(
        shared_engine,
        _oid(shared_engine, org.name),
        [CallerEvent(caller, CallerChange.JOINED, start)],
    )
    link = panel_links.create_link(shared_engine, org.name, "101", "sip1")
    base = f"{shared_server.base_url}/panel/{org.name}/api"
    bearer = {"authorization": f"Bearer {link.token}"}
    assert httpx.get(f"{base}/state", headers=bearer).json()["queues"] is None
    assert httpx.get(f"{base}/queues", headers=bearer).json()["queues"] is None
    refused = httpx.get(f"{base}/queues", headers={"authorization": "Bearer not-a-link"})
    assert refused.status_code == 401
    assert refused.json()["reason"] == "unknown"
    page.goto(panel_url(shared_server.base_url, org.name, link.token))
    panel = page.locator(PANEL)
    expect(panel.locator(".status-name")).to_have_text("Logout")
    expect(panel.locator("ul.queues")).to_be_hidden()
    expect(panel.locator(".queue")).to_have_count(0)


def test_the_panels_stream_carries_no_callers_events(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    oid = _oid(shared_engine, org.name)
    set_status(shared_server.base_url, org.code, "102", "sip2", 1)
    link = panel_links.create_link(shared_engine, org.name, "101", "sip1")
    supervisor = create_token(shared_engine, Role.SUPERVISOR, org.name, "wall")
    start = now_ms()
    caller = QueueCaller("support", f"{start}.1", "0501234567")
    base = shared_server.base_url
    with (
        Subscriber(f"{base}/panel/{org.name}/api/events", link.token) as mine,
        Subscriber(f"{base}/api/v1/orgs/{org.name}/events", supervisor.token) as floor,
    ):
        assert mine.wait_for(1)[0].event == "snapshot"
        floor.wait_for(1)
        record(
            shared_engine,
            oid,
            [
                CallerEvent(caller, CallerChange.JOINED, start),
                CallerEvent(caller, CallerChange.LEFT, start + 9_000),
                CallerEvent(caller, CallerChange.ANSWERED, start + 9_001, user_id="102"),
            ],
        )
        # The organisation's stream has them (so there was something to leak) ...
        deadline = time.monotonic() + 10
        while sum(e.event.startswith("queue.") for e in floor.events) < 3:
            assert time.monotonic() < deadline, floor.events
            time.sleep(0.05)
        answered = next(e for e in floor.events if e.event == "queue.caller_answered")
        assert answered.data["user_id"] == "102"
        set_status(base, org.code, "101", "sip1", 3)
        seen = mine.wait_for(2)
        time.sleep(0.5)
        # ... the agent's stream has its own change only.
        assert [(e.event, e.data["user_id"]) for e in mine.events[1:]] == [("agent.login", "101")]
        assert seen[1].data["new"] == {"extension": "sip1", "status": 3}
        # The panel's queues say how many wait, not who.
        answer = httpx.get(
            f"{base}/panel/{org.name}/api/queues",
            headers={"authorization": f"Bearer {link.token}"},
        )
        assert answer.status_code == 200
        assert "0501234567" not in answer.text
        assert caller.call_id not in answer.text
