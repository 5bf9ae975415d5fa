""" "Phone offline" in Chromium: the board's row and the agent's panel show it within a
second of a loopback Asterisk reporting the phone unregistered, and clear it when the phone
registers again; in English and Hebrew (screenshots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from agentstatus.service import panel_links
from agentstatus.service.panel_links import panel_url
from agentstatus.service.tokens import Role
from tests.support.ami_server import AmiServer
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.pbx import PBX_ENV, use_asterisk, wait_state
from tests.support.web import add_user
from tests.support.wire import set_status
from tests.web.test_board_browser import row, sign_in

WORDS = {"en": "Phone offline", "he": "הטלפון מנותק"}


def test_the_board_and_the_panel_show_the_phone_offline(
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
    user = add_user(engine, "sup@example.com", Role.SUPERVISOR, org.name, "Sue")
    with AmiServer(queues=("support",)) as ami:
        ami.set_phone("sip1", True)
        use_asterisk(engine, database_url, org.name, ami, ("support",))
        with InProcessServer(database_url, tmp_path / "server.log") as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            page.set_viewport_size({"width": 1280, "height": 600})
            sign_in(page, server.base_url, user)
            expect(page.locator("#connection")).to_have_attribute("data-state", "live")
            badge = row(page, "101").locator(".phone-offline")
            expect(badge).to_be_hidden()
            panel = page.context.new_page()
            link = panel_links.create_link(engine, org.name, "101", "sip1")
            panel.goto(panel_url(server.base_url, org.name, link.token))
            shown = panel.locator("agentstatus-panel .phone-offline")
            expect(panel.locator("agentstatus-panel .status-name")).to_have_text("Login")
            expect(shown).to_be_hidden()
            ami.unregister_phone("sip1")
            expect(badge).to_be_visible(timeout=1000)
            expect(badge).to_have_text(WORDS["en"])
            expect(shown).to_be_visible(timeout=1000)
            # The status did not move: the phone's state is no change of status.
            expect(row(page, "101").locator("[data-status]")).to_have_attribute("data-status", "1")
            page.screenshot(path=str(folder / "board-phone-offline-en.png"))
            panel.locator("agentstatus-panel").screenshot(
                path=str(folder / "panel-phone-offline-en.png")
            )
            # The agent's day lists it among the day's changes (not as a call).
            day = f"{server.base_url}/o/{org.name}/agents/101"
            page.goto(day)
            cell = page.locator('tr[data-type="extension.phone"] td.phone')
            expect(cell).to_have_text(WORDS["en"])
            page.screenshot(path=str(folder / "agent-day-phone-offline-en.png"), full_page=True)
            page.get_by_role("button", name="עברית").click()
            expect(page.locator('tr[data-type="extension.phone"] td.phone')).to_have_text(
                WORDS["he"]
            )
            page.screenshot(path=str(folder / "agent-day-phone-offline-he.png"), full_page=True)
            # Reloaded, the board reads the phone's state from the database; in Hebrew.
            page.goto(f"{server.base_url}/o/{org.name}/")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            badge = row(page, "101").locator(".phone-offline")
            expect(badge).to_have_text(WORDS["he"])
            page.screenshot(path=str(folder / "board-phone-offline-he.png"))
            # A link opens the panel once: a new one, in Hebrew (the CRM's ?lang=he).
            link = panel_links.create_link(engine, org.name, "101", "sip1")
            address, _, token = panel_url(server.base_url, org.name, link.token).partition("#")
            panel.goto(f"{address}?lang=he#{token}")
            expect(panel.locator("agentstatus-panel .phone-offline")).to_have_text(WORDS["he"])
            panel.locator("agentstatus-panel").screenshot(
                path=str(folder / "panel-phone-offline-he.png")
            )
            ami.register_phone("sip1")
            expect(badge).to_be_hidden(timeout=1000)
            expect(panel.locator("agentstatus-panel .phone-offline")).to_be_hidden(timeout=1000)
            panel.close()
            page.close()  # their event streams end before the server stops
