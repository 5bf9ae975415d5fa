"""A supervisor sets any status from the board: the row's menu of the organisation's
enabled statuses, an optional reason, the same confirmation as a logout, and the history
(the agent's day page) showing source ``supervisor``, the reason and the supervisor's
e-mail. Also without the script (the menu as a page), and the admin pages' actor."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from agentstatus.service import presence
from agentstatus.service.history import read_history
from agentstatus.service.statuses import update_status
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in, text_of
from tests.support.wire import set_status
from tests.web.test_board_browser import row, sign_in

TRAINING = 11
REASON = "Product training, room 2"


def where(engine: Engine, org: str, user_id: str) -> tuple[str | None, int]:
    found = {p.user_id: p for p in presence.list_presence(engine, org)}[user_id]
    return found.extension, found.status


def test_a_supervisor_sets_training_with_a_reason_from_the_board(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    user = add_user(shared_engine, f"menu-{org.name}@example.com", Role.SUPERVISOR, org.name, "Sam")
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    update_status(shared_engine, org.name, 12, enabled=False)  # not offered: disabled
    sign_in(page, shared_server.base_url, user)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    row(page, "101").get_by_role("button", name="Set status: Agent 1").click()
    menu = page.get_by_role("dialog", name="Set status · Agent 1 (101)")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("radio")).to_have_count(8)  # the nine defaults but one
    expect(menu.get_by_role("radio", name="Department meeting")).to_have_count(0)
    expect(menu.get_by_label("Extension (for an agent logged out)")).to_have_value("sip1")
    menu.get_by_role("radio", name="Training").check()
    menu.get_by_label("Reason (optional)").fill(REASON)
    menu.get_by_role("button", name="Set status").click()
    # Asked first, naming the agent, the status and the reason; Cancel changes nothing.
    asked = page.get_by_role("dialog", name="Are you sure?")
    expect(asked).to_contain_text(f"Put Agent 1 (101) in Training? Reason: {REASON}")
    expect(asked.get_by_role("button", name="Cancel")).to_be_focused()
    asked.get_by_role("button", name="Cancel").click()
    page.wait_for_timeout(300)
    assert where(shared_engine, org.name, "101") == ("sip1", 1)
    row(page, "101").get_by_role("button", name="Set status: Agent 1").click()
    menu.get_by_role("radio", name="Training").check()
    menu.get_by_label("Reason (optional)").fill(REASON)
    menu.get_by_role("button", name="Set status").click()
    asked.get_by_role("button", name="Set status").click()
    badge = row(page, "101").locator("[data-status]")
    expect(badge).to_have_attribute("data-status", str(TRAINING))
    expect(badge).to_have_text("Training")
    last = read_history(shared_engine, org.name).events[-1]
    assert (last.source, last.reason, last.actor) == ("supervisor", REASON, user.email)
    # The agent's day shows who and why.
    page.goto(f"{shared_server.base_url}/o/{org.name}/agents/101")
    newest = page.locator("table.history tbody tr").first
    expect(newest.locator(".source")).to_have_text("supervisor")
    expect(newest.locator(".reason")).to_have_text(REASON)
    expect(newest.locator(".actor")).to_have_text(user.email)


def test_logout_is_one_of_the_menus_choices(
    page: Page,
    shared_server: ServerProcess,
    shared_engine: Engine,
    supervisor: WebUser,
    org: OrgFixture,
) -> None:
    set_status(shared_server.base_url, org.code, "103", "sip3", 3)
    sign_in(page, shared_server.base_url, supervisor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    row(page, "103").get_by_role("button", name="Set status: Agent 3").click()
    menu = page.locator("#status-dialog")
    menu.get_by_role("radio", name="Logout").check()
    menu.get_by_role("button", name="Set status").click()
    asked = page.get_by_role("dialog", name="Are you sure?")
    expect(asked).to_contain_text("Log out Agent 3 (103)?")  # the logout's own question
    asked.get_by_role("button", name="Log out").click()
    expect(row(page, "103").locator("[data-status]")).to_have_attribute("data-status", "2")
    expect(row(page, "103").locator("button[data-logout]")).to_be_hidden()
    last = read_history(shared_engine, org.name).events[-1]
    assert (last.source, last.reason, last.actor) == ("supervisor", None, supervisor.email)


def test_a_refusal_is_said_in_the_readers_words(
    page: Page,
    shared_server: ServerProcess,
    shared_engine: Engine,
    supervisor: WebUser,
    org: OrgFixture,
) -> None:
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    sign_in(page, shared_server.base_url, supervisor)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    row(page, "102").get_by_role("button", name="Set status: Agent 2").click()
    menu = page.locator("#status-dialog")
    menu.get_by_role("radio", name="Login", exact=True).check()
    menu.get_by_label("Extension (for an agent logged out)").fill("sip1")
    menu.get_by_role("button", name="Set status").click()
    asked = page.get_by_role("dialog", name="Are you sure?")
    # The browser's alert, with the server's words: accepted as it opens (an alert open
    # while the click still waits on the page would hold both until the click's timeout).
    said: list[str] = []
    page.once("dialog", lambda dialog: (said.append(dialog.message), dialog.accept()))
    asked.get_by_role("button", name="Set status").click()
    deadline = time.monotonic() + 5
    while not said and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert said == ["Another agent holds that extension."]
    assert where(shared_engine, org.name, "102") == (None, 2)


def test_without_the_script_the_menu_is_a_page(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    path = f"/o/{org.name}/agents/101/status"
    with signed_in(shared_server.base_url, root_admin) as client:
        board = client.get(f"/o/{org.name}/").text
        assert f'action="{path}"' in board  # a form, also without JS
        asked = client.post(path, headers=SAME_ORIGIN)
        assert asked.status_code == 200
        assert "Set the status of Agent 1 (101)" in text_of(asked.text)
        assert 'name="confirmed" value="yes"' in asked.text
        assert where(shared_engine, org.name, "101") == ("sip1", 1)
        done = client.post(
            path,
            data={"status": "11", "reason": "Drill", "extension": "", "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        assert done.status_code == 303
        assert where(shared_engine, org.name, "101") == ("sip1", TRAINING)
        long = {"status": "3", "reason": "x" * 201, "confirmed": "yes"}
        refused = client.post(path, data=long, headers=SAME_ORIGIN)
        assert refused.status_code == 422
        assert "at most 200 characters" in text_of(refused.text)
        assert where(shared_engine, org.name, "101") == ("sip1", TRAINING)
    last = read_history(shared_engine, org.name).events[-1]
    assert (last.source, last.reason, last.actor) == ("supervisor", "Drill", root_admin.email)


def test_the_menu_in_english_and_hebrew(
    page: Page, shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, shared_server.base_url, supervisor)
    for code, button, training in (
        ("en", "Set status…", "Training"),
        ("he", "קביעת סטטוס…", "הדרכה"),  # noqa: RUF001 (Hebrew, not look-alikes)
    ):
        if code == "he":
            page.get_by_role("button", name="עברית").click()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        row(page, "101").locator("button[data-set-status]").click()
        expect(row(page, "101").locator("button[data-set-status]")).to_have_text(button)
        menu = page.locator("#status-dialog")
        expect(menu).to_be_visible()
        menu.get_by_role("radio", name=training).check()
        menu.locator("#status-reason").fill("Product training" if code == "en" else "הדרכת מוצר")
        page.screenshot(path=str(folder / f"supervisor-menu-{code}.png"), full_page=True)
        menu.locator('button[value="cancel"]').click()
        expect(menu).to_be_hidden()
    # In Hebrew, for real: the agent's day then shows the source, the reason and who.
    row(page, "101").locator("button[data-set-status]").click()
    menu.get_by_role("radio", name="הדרכה").check()
    menu.locator("#status-reason").fill("הדרכת מוצר")
    menu.locator('button[value="set"]').click()
    page.locator("#confirm-dialog [data-confirm-yes]").click()
    expect(row(page, "101").locator("[data-status]")).to_have_attribute("data-status", "11")
    page.goto(f"{shared_server.base_url}/o/{org.name}/agents/101")
    newest = page.locator("table.history tbody tr").first
    expect(newest.locator(".reason")).to_have_text("הדרכת מוצר")
    expect(newest.locator(".actor")).to_have_text(supervisor.email)
    page.screenshot(path=str(folder / "supervisor-day-he.png"), full_page=True)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.screenshot(path=str(folder / "supervisor-day-en.png"), full_page=True)


def test_the_menu_page_in_a_browser_without_the_script(
    browser: Browser,
    shared_server: ServerProcess,
    shared_engine: Engine,
    supervisor: WebUser,
    org: OrgFixture,
    tmp_path: Path,
) -> None:
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    set_status(shared_server.base_url, org.code, "102", "sip2", 1)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1000, "height": 700}
    )
    page = context.new_page()
    try:
        sign_in(page, shared_server.base_url, supervisor)
        for code in ("en", "he"):
            if code == "he":
                page.get_by_role("button", name="עברית").click()
            row(page, "102").locator("button[data-set-status]").click()
            expect(page.locator("h1")).to_contain_text("Agent 2 (102)")
            expect(page.locator("#status-extension")).to_have_value("sip2")  # its own
            page.screenshot(path=str(folder / f"supervisor-menu-page-{code}.png"), full_page=True)
            if code == "en":
                page.go_back()
        page.locator('input[name="status"][value="11"]').check()
        page.locator("#status-reason").fill("בלי סקריפט")
        page.locator("button.primary").click()
        expect(row(page, "102").locator("[data-status]")).to_have_attribute("data-status", "11")
    finally:
        context.close()
    last = read_history(shared_engine, org.name).events[-1]
    assert (last.source, last.reason, last.actor) == ("supervisor", "בלי סקריפט", supervisor.email)
