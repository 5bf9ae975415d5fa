""" "On a call" in Chromium: the board's row and the agent's panel show the live call a
loopback Asterisk reports (ringing, on a call, on hold), and clear it when it ends."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from agentstatus.service import panel_links
from agentstatus.service.panel_links import panel_url
from agentstatus.service.tokens import Role
from tests.support.ami_server import AmiServer
from tests.support.factories import make_org
from tests.support.pbx import PBX_ENV, use_asterisk, wait_state
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.support.wire import set_status
from tests.web.test_board_browser import row, sign_in

SCREENSHOTS = os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR")


def test_the_board_and_the_panel_show_the_call(
    page: Page, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    user = add_user(engine, "sup@example.com", Role.SUPERVISOR, org.name, "Sue")
    with AmiServer(queues=("support",)) as ami:
        use_asterisk(engine, database_url, org.name, ami, ("support",))
        with ServerProcess(database_url, tmp_path / "server.log", env=PBX_ENV) as server:
            wait_state(engine, org.name, lambda s: s.connected and s.reconcile_ms is not None)
            set_status(server.base_url, org.code, "101", "sip1", 1)
            sign_in(page, server.base_url, user)
            badge = row(page, "101").locator(".on-call")
            expect(badge).to_be_hidden()
            call = ami.call_in("sip1", caller_num="0501234567", caller_name="Dana", did="0390")
            expect(badge).to_have_text("Ringing", timeout=3000)
            call.answer()
            expect(badge).to_have_text("On a call", timeout=3000)
            expect(badge).to_have_attribute("data-call", "Talking")
            # The status did not move: a call is not a change of status.
            expect(row(page, "101").locator("[data-status]")).to_have_attribute("data-status", "1")
            if SCREENSHOTS:
                page.screenshot(path=str(Path(SCREENSHOTS) / "board-on-a-call.png"))
            panel = page.context.new_page()
            link = panel_links.create_link(engine, org.name, "101", "sip1")
            panel.goto(panel_url(server.base_url, org.name, link.token))
            shown = panel.locator("agentstatus-panel .on-call")
            expect(shown).to_have_text("On a call", timeout=5000)
            call.hold()
            expect(shown).to_have_text("On hold", timeout=3000)
            expect(badge).to_have_text("On hold", timeout=3000)
            if SCREENSHOTS:
                panel.locator("agentstatus-panel").screenshot(
                    path=str(Path(SCREENSHOTS) / "panel-on-a-call.png")
                )
            call.hangup()
            expect(badge).to_be_hidden(timeout=3000)
            expect(shown).to_be_hidden(timeout=3000)
            # Reloaded, the board reads the calls from the database: none.
            page.reload()
            expect(row(page, "101").locator(".on-call")).to_be_hidden()
