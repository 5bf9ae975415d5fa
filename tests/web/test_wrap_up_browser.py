"""Wrap-up and the next status in Chromium: the agent's panel during wrap-up (the seconds
left and the Ready button, which ends the wrap-up early: back to the status held before the
call, or to the status queued as next, shown as "→ Lunch break"), in English and Hebrew;
the board showing the queued status live and clearing it when it is applied."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Awaitable, Callable
from itertools import count
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.wrap_up import WrapUpMode
from agentstatus.service import history, next_status, panel_links, wrap_up
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.database import reading
from agentstatus.web.i18n import translations
from tests.support.changes import url_of
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.web.test_board_browser import sign_in

SCREENSHOTS = os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR")
_calls = count(1)


def _oid(engine: Engine, org: OrgFixture) -> int:
    with reading(engine) as conn:
        return org_id(conn, org.name)


def _in_thread(work: Callable[[StatusChanges], Awaitable[None]], engine: Engine) -> None:
    """Run ``work`` on a change path of its own, in a thread: Playwright holds this
    thread's event loop."""

    async def run() -> None:
        async with standalone_changes(url_of(engine)) as changes:
            await work(changes)

    worker = threading.Thread(target=lambda: asyncio.run(run()))
    worker.start()
    worker.join(30)


def _answered_call(engine: Engine, org: OrgFixture, user_id: str, sip: str) -> Call:
    """Log the agent in and start an answered call on its extension."""
    oid = _oid(engine, org)
    at = now_ms()
    call = Call(f"c{next(_calls)}", sip, Direction.IN, CallState.TALKING, "", "050", "", at, at)

    async def work(changes: StatusChanges) -> None:
        login = StatusCommand(user_id, sip, 1, Source.ADMIN, org_id=oid)
        assert (await changes.apply(login)).change is not None

    _in_thread(work, engine)
    store_calls(engine, oid, [Changed(CallChange.STARTED, call)])
    return call


def _call_ends(engine: Engine, org: OrgFixture, call: Call) -> None:
    """The call's end, as the phone-system link gives it."""
    oid = _oid(engine, org)

    async def work(changes: StatusChanges) -> None:
        ended = [Changed(CallChange.ENDED, call)]
        store_calls(engine, oid, ended)
        await wrap_up.calls_ended(engine, changes, oid, ended)

    _in_thread(work, engine)


def _in_wrap_up(engine: Engine, org: OrgFixture, user_id: str, sip: str) -> None:
    _call_ends(engine, org, _answered_call(engine, org, user_id, sip))


def _last(engine: Engine, org: OrgFixture, user_id: str) -> tuple[str, str | None, int, int]:
    e = [e for e in history.read_history(engine, org.name).events if e.user_id == user_id][-1]
    return e.source, e.reason, e.prev_status, e.new_status


def _shot(panel: Locator, name: str, tmp_path: Path) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    panel.screenshot(path=str(folder / name))


def test_ready_ends_a_timed_wrap_up_early_back_to_login(
    page: Page, shared_server: ServerProcess, shared_engine: Engine, tmp_path: Path
) -> None:
    org = make_org(shared_engine)
    wrap_up.set_wrap_up(shared_engine, org.name, WrapUpMode.TIMED, 120, None)
    _in_wrap_up(shared_engine, org, "101", "sip1")
    created = panel_links.create_link(shared_engine, org.name, "101", "sip1")
    page.set_viewport_size({"width": 360, "height": 520})
    page.goto(panel_links.panel_url(shared_server.base_url, org.name, created.token))
    panel = page.locator("agentstatus-panel")
    expect(panel.locator(".status-name")).to_have_text("Summary (wrap-up)")
    expect(panel.locator("button.ready")).to_be_visible()
    expect(panel.locator(".wrap-up-left")).to_have_text(
        re.compile(r"^Wrap-up, time left 0:0[12]:\d\d$")
    )
    _shot(panel.locator("section"), "panel-wrap-up-en.png", tmp_path)
    panel.locator("button.ready").click()
    expect(panel.locator(".status-name")).to_have_text("Login")
    expect(panel.locator("button.ready")).to_be_hidden()
    expect(panel.locator(".after-call")).to_be_hidden()
    assert _last(shared_engine, org, "101") == ("panel", "wrap-up-ended", 13, 1)


def test_in_hebrew_the_next_status_shows_and_ready_applies_it(
    page: Page, shared_server: ServerProcess, shared_engine: Engine, tmp_path: Path
) -> None:
    org = make_org(shared_engine)
    wrap_up.set_wrap_up(shared_engine, org.name, WrapUpMode.MANUAL, None, None)
    _in_wrap_up(shared_engine, org, "102", "sip2")
    next_status.queue_next(shared_engine, org.name, "102", 3, Source.PANEL)
    created = panel_links.create_link(shared_engine, org.name, "102", "sip2")
    page.set_viewport_size({"width": 360, "height": 520})
    link = panel_links.panel_url(shared_server.base_url, org.name, created.token)
    page.goto(link.replace("#", "?lang=he#", 1))
    hebrew = translations("he").gettext
    panel = page.locator("agentstatus-panel")
    expect(panel.locator("section")).to_have_attribute("dir", "rtl")
    expect(panel.locator(".wrap-up-left")).to_have_text(hebrew("Wrap-up"))  # manual: no clock
    expect(panel.locator(".next-status")).to_have_text(f"← {hebrew('Lunch break')}")
    expect(panel.locator("button.ready")).to_have_text(hebrew("Ready"))
    _shot(panel.locator("section"), "panel-wrap-up-he.png", tmp_path)
    panel.locator("button.ready").click()
    expect(panel.locator(".status-name")).to_have_text(hebrew("Lunch break"))
    expect(panel.locator(".next-status")).to_be_hidden()
    assert _last(shared_engine, org, "102") == ("panel", "next-status", 13, 3)


def test_the_board_shows_the_queued_status_and_clears_it_when_the_call_ends(
    page: Page,
    shared_server: ServerProcess,
    shared_engine: Engine,
    tmp_path: Path,
) -> None:
    org = make_org(shared_engine)
    user = add_user(shared_engine, f"s-{org.name}@example.com", Role.SUPERVISOR, org.name)
    token = create_token(shared_engine, Role.SUPERVISOR, org.name, label="crm").token
    call = _answered_call(shared_engine, org, "101", "sip1")
    sign_in(page, shared_server.base_url, user)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    shown = page.locator('tr[data-user-id="101"] .next-status')
    expect(shown).to_be_hidden()
    queued = httpx.put(
        f"{shared_server.base_url}/api/v1/orgs/{org.name}/presence/101/next",
        json={"status": 3},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert queued.status_code == 202, queued.text
    expect(shown).to_have_text("→ Lunch break", timeout=2000)
    _shot(page.locator("#board"), "board-next-status-en.png", tmp_path)
    # Read with the page too, not only from the stream; in Hebrew, the arrow mirrored.
    page.locator('.language-switch button[value="he"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    hebrew = translations("he").gettext
    expect(shown).to_have_text(f"← {hebrew('Lunch break')}")
    _shot(page.locator("#board"), "board-next-status-he.png", tmp_path)
    _call_ends(shared_engine, org, call)  # wrap-up is off: applied at once
    badge = page.locator('tr[data-user-id="101"] [data-status]')
    expect(badge).to_have_attribute("data-status", "3", timeout=3000)
    expect(shown).to_be_hidden()


def test_a_status_clicked_during_a_call_is_queued_and_applied_when_it_ends(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    call = _answered_call(shared_engine, org, "103", "sip3")
    created = panel_links.create_link(shared_engine, org.name, "103", "sip3")
    page.goto(panel_links.panel_url(shared_server.base_url, org.name, created.token))
    panel = page.locator("agentstatus-panel")
    expect(panel.locator(".on-call")).to_have_text("On a call")
    panel.locator('button[data-status="3"]').click()
    expect(panel.locator(".next-status")).to_have_text("→ Lunch break")
    expect(panel.locator(".status-name")).to_have_text("Login")  # not cut short
    _call_ends(shared_engine, org, call)
    expect(panel.locator(".status-name")).to_have_text("Lunch break", timeout=3000)
    expect(panel.locator(".next-status")).to_be_hidden()
    assert _last(shared_engine, org, "103") == ("panel", "next-status", 1, 3)
