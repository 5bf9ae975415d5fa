"""The board in Chromium against a real server: signing in and out, live updates from a
wire request, filters and sorting, force-logout, a reconnect after a restart, escaping."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import Engine

from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import agents, policies
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.forked import run_agentstatus
from tests.support.server import ServerProcess
from tests.support.web import WebUser, add_user
from tests.support.wire import set_status


def sign_in(page: Page, base_url: str, user: WebUser) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#board")).to_be_visible()


def row(page: Page, user_id: str) -> Locator:
    return page.locator(f'tr[data-user-id="{user_id}"]')


def test_signing_in_and_out(page: Page, shared_server: ServerProcess, supervisor: WebUser) -> None:
    page.goto(f"{shared_server.base_url}/")
    page.get_by_label("E-mail").fill(supervisor.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    sign_in(page, shared_server.base_url, supervisor)
    expect(page.locator(".who")).to_have_text("Sue")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{shared_server.base_url}/")
    expect(page).to_have_url(f"{shared_server.base_url}/sign-in?next=%2F")


def test_a_wire_change_shows_on_the_open_board(
    page: Page, shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    # Pushed by the stream, never polled. How fast is a figure of `make bench` (its browser
    # part: change to tile, p99 against 300 ms), not a clock in a test on CI's loaded cores.
    sign_in(page, shared_server.base_url, supervisor)
    user_id, sip = org.agents[0], org.extensions[0]
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    set_status(shared_server.base_url, org.code, user_id, sip, 1)
    badge = row(page, user_id).locator("[data-status]")
    expect(badge).to_have_attribute("data-status", "1")
    expect(row(page, user_id).locator(".extension")).to_have_text(sip)
    expect(row(page, user_id).locator(".takes-calls")).to_have_text("Yes")
    set_status(shared_server.base_url, org.code, user_id, sip, 3)
    expect(badge).to_have_attribute("data-status", "3")
    expect(badge).to_contain_text("Lunch break")
    expect(row(page, user_id).locator(".takes-calls")).to_have_text("No")


def test_filters_tiles_and_sorting(
    page: Page, shared_server: ServerProcess, shared_engine: Engine, supervisor: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=3, extension_count=3)
    user = add_user(shared_engine, f"s-{org.name}@example.com", Role.SUPERVISOR, org.name)
    agents.rename_agent(shared_engine, org.name, "101", "Zoe Zed")
    set_status(shared_server.base_url, org.code, "102", "sip2", 1)
    time.sleep(0.05)
    set_status(shared_server.base_url, org.code, "103", "sip3", 3)
    sign_in(page, shared_server.base_url, user)
    visible = page.locator("#board tbody tr:visible")
    expect(visible).to_have_count(3)
    page.get_by_label("Search").fill("sip3")
    expect(visible).to_have_count(1)
    expect(visible.first).to_have_attribute("data-user-id", "103")
    page.get_by_label("Search").fill("")
    page.locator('[data-filter-status="1"]').click()
    expect(visible).to_have_count(1)
    expect(visible.first).to_have_attribute("data-user-id", "102")
    expect(page.locator('[data-filter-status="1"]')).to_have_attribute("aria-pressed", "true")
    page.locator('[data-filter-status=""]').click()
    page.get_by_label("Status", exact=True).select_option("2")
    expect(visible).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option("")
    names = page.locator("#board tbody tr .name").all_text_contents()
    assert names == ["Agent 2", "Agent 3", "Zoe Zed"]
    # Time in status: the longest first (the oldest change), then reversed.
    page.get_by_role("button", name="Time in status").click()
    ids = page.locator("#board tbody tr").evaluate_all("rows => rows.map(r => r.dataset.userId)")
    assert ids == ["101", "102", "103"]
    page.get_by_role("button", name="Time in status").click()
    ids = page.locator("#board tbody tr").evaluate_all("rows => rows.map(r => r.dataset.userId)")
    assert ids == ["103", "102", "101"]
    header = page.locator("th", has=page.get_by_role("button", name="Time in status"))
    expect(header).to_have_attribute("aria-sort", "descending")


def test_force_logout_from_the_board(
    page: Page, shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    user_id, sip = org.agents[1], org.extensions[1]
    set_status(shared_server.base_url, org.code, user_id, sip, 1)
    sign_in(page, shared_server.base_url, supervisor)
    button = row(page, user_id).get_by_role("button", name="Log out: Agent 2")
    expect(button).to_be_visible()
    button.click()
    # Asked first, in the page's dialog, naming the agent; "Cancel" changes nothing.
    dialog = page.get_by_role("dialog", name="Are you sure?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Log out Agent 2 ({user_id})?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(300)
    expect(row(page, user_id).locator("[data-status]")).to_have_attribute("data-status", "1")
    button.click()
    dialog.get_by_role("button", name="Log out").click()
    expect(row(page, user_id).locator("[data-status]")).to_have_attribute("data-status", "2")
    expect(button).to_be_hidden()


def test_names_are_text_and_no_script_runs(
    page: Page,
    shared_server: ServerProcess,
    shared_engine: Engine,
    supervisor: WebUser,
    org: OrgFixture,
) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    agents.add_agent(shared_engine, org.name, "xss", hostile)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, shared_server.base_url, supervisor)
    expect(row(page, "xss").locator(".name")).to_have_text(hostile)
    assert page.locator("#board img").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def test_the_board_reconnects_after_a_restart_and_catches_up(
    page: Page, shared_database_url: str, shared_engine: Engine, tmp_path: Path
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    user = add_user(shared_engine, f"r-{org.name}@example.com", Role.SUPERVISOR, org.name)
    server = ServerProcess(shared_database_url, tmp_path / "restart.log").start()
    try:
        set_status(server.base_url, org.code, "101", "sip1", 1)
        sign_in(page, server.base_url, user)
        banner = page.locator("#connection")
        expect(banner).to_have_attribute("data-state", "live")
        server.stop()
        expect(banner).to_have_attribute("data-state", "disconnected", timeout=10_000)
        # A change while the server is down: the CLI's, straight to the database.
        code, _, stderr = run_agentstatus(
            ["--database", shared_database_url, "force-logout", org.name, "101"]
        )
        assert code == 0, stderr
        server = ServerProcess(shared_database_url, tmp_path / "restart.log", port=server.port)
        server.start()
        expect(banner).to_have_attribute("data-state", "reconnected", timeout=15_000)
        expect(row(page, "101").locator("[data-status]")).to_have_attribute("data-status", "2")
    finally:
        server.stop()


def test_replay_of_a_known_history(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    user = add_user(shared_engine, f"replay-{org.name}@example.com", Role.SUPERVISOR, org.name)
    base = shared_server.base_url
    set_status(base, org.code, "101", "sip1", 1)
    first = time.time()
    time.sleep(2.2)
    set_status(base, org.code, "101", "sip1", 3)
    second = time.time()
    time.sleep(2.2)
    set_status(base, org.code, "102", "sip2", 1)
    third = time.time()
    sign_in(page, base, user)
    # A whole second after the first change, before the second (the org's clock is UTC).
    at = datetime.fromtimestamp(math.ceil(first) + 0.0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Show the floor as it was at (UTC)").fill(at)
    page.get_by_label("Speed").select_option("1")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "replay")
    # Unmistakable: a banner with the instant on the organisation's clock, the board
    # tinted, and no action that could change a (live) agent.
    banner = page.locator("#replay-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Replay")
    expect(banner).to_contain_text("(UTC)")
    shown_at = datetime.fromisoformat(at).replace(tzinfo=UTC)
    expect(banner.locator("[data-replay-instant]")).to_contain_text(shown_at.strftime("%-I:%M:%S"))
    tint = page.locator("#board").evaluate("(t) => getComputedStyle(t).backgroundColor")
    assert tint not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), tint
    expect(page.locator("#board [data-logout]:visible")).to_have_count(0)
    expect(page.get_by_role("button", name="Log out: Agent 1")).to_be_hidden()
    badge_a = row(page, "101").locator("[data-status]")
    badge_b = row(page, "102").locator("[data-status]")
    expect(badge_a).to_have_attribute("data-status", "1")
    expect(badge_b).to_have_attribute("data-status", "2")
    expect(page.locator('[data-count="1"]')).to_have_text("1")
    page.get_by_role("button", name="Play").click()
    # At 1x the replayed clock reaches a change as long after the instant as it was made
    # (on a busy machine a change's request takes a while: measured, not assumed), plus
    # a margin for the page's timers.
    played = time.time()
    start = math.ceil(first)

    def until(change: float) -> float:
        return max(1.0, change - start + 5 - (time.time() - played)) * 1000  # 0: no limit

    expect(badge_a).to_have_attribute("data-status", "3", timeout=until(second))
    expect(badge_b).to_have_attribute("data-status", "2")
    expect(badge_b).to_have_attribute("data-status", "1", timeout=until(third))
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    paused_at = page.locator("body").get_attribute("data-replay-at")
    page.wait_for_timeout(500)
    assert page.locator("body").get_attribute("data-replay-at") == paused_at
    page.get_by_role("button", name="Back to live").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("body")).to_have_attribute("data-mode", "live")
    expect(badge_a).to_have_attribute("data-status", "3")


def test_replay_refuses_a_bad_instant_beside_the_field(
    page: Page, shared_server: ServerProcess, supervisor: WebUser
) -> None:
    sign_in(page, shared_server.base_url, supervisor)
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Show the floor as it was at (UTC)").fill(future)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#replay-error")).to_have_text("at is in the future")
    expect(page.locator("#replay-at")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def test_an_expired_session_goes_back_to_the_sign_in_page(
    page: Page, shared_database_url: str, supervisor: WebUser, tmp_path: Path
) -> None:
    env = {"AGENTSTATUS_SESSION_IDLE_SECONDS": "1"}
    with ServerProcess(shared_database_url, tmp_path / "idle.log", env=env) as server:
        sign_in(page, server.base_url, supervisor)
        page.wait_for_timeout(1500)
        page.reload()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page).to_have_url(f"{server.base_url}/sign-in?next=%2F")


def test_hebrew_is_right_to_left(
    browser: Browser, shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    context = browser.new_context(locale="he-IL", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{shared_server.base_url}/")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.get_by_label("דואר אלקטרוני").fill(supervisor.email)
        page.get_by_label("סיסמה").fill(supervisor.password)
        page.get_by_role("button", name="כניסה").click()
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        expect(page.locator("html")).to_have_attribute("lang", "he")
        # Mirrored: the brand is on the right, and a row's name cell right of its status.
        brand = page.locator(".brand").bounding_box()
        first = row(page, org.agents[0])
        name_box = first.locator(".name").bounding_box()
        status_box = first.locator("[data-status]").bounding_box()
        assert brand is not None
        assert name_box is not None
        assert status_box is not None
        assert brand["x"] > 640
        assert name_box["x"] > status_box["x"]
        expect(page.get_by_role("button", name="זמן בסטטוס")).to_be_visible()
    finally:
        context.close()


def test_an_agent_over_its_status_limit_is_highlighted(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    user = add_user(shared_engine, f"s-{org.name}@example.com", Role.SUPERVISOR, org.name)
    policies.set_limit(shared_engine, org.name, 3, Limit(2, LimitAction.WARN))
    set_status(shared_server.base_url, org.code, "101", "sip1", 3)  # rendered in the page
    sign_in(page, shared_server.base_url, user)
    timer = row(page, "101").locator("time-in-status")
    expect(timer).to_have_attribute("data-overdue", "", timeout=4000)
    set_status(shared_server.base_url, org.code, "102", "sip2", 3)  # a live change
    later = row(page, "102").locator("time-in-status")
    expect(later).to_have_attribute("limit", "2")
    expect(later).not_to_have_attribute("data-overdue", "")
    expect(later).to_have_attribute("data-overdue", "", timeout=4000)
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)  # Login has no limit
    expect(timer).not_to_have_attribute("data-overdue", "")
    expect(timer).not_to_have_attribute("limit", "2")
