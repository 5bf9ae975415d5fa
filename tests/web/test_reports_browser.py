"""An agent's day and the reports in Chromium against a real server: the timeline's
segments drawn in the catalogue's colours (under the page's strict policy), the day
picker, a report's chart and table, and the CSV download."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import Engine

from agentstatus.service.timezones import set_timezone
from agentstatus.service.tokens import Role
from tests.support.factories import make_org
from tests.support.past import write_past
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.web.test_board_browser import sign_in

JERUSALEM = ZoneInfo("Asia/Jerusalem")
DAY = date(2026, 11, 3)
LOGIN_GREEN = "rgb(46, 204, 113)"  # the default catalogue's Login, #2ecc71


def local(day: date, hour: int, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=JERUSALEM)
    return int(moment.timestamp() * 1000)


def policy_errors(page: Page) -> list[str]:
    """Console errors the page logs (a Content-Security-Policy refusal is one), but for
    the favicon the browser asks for on its own (there is none)."""
    found: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):
            found.append(f"{message.text} ({url})")

    page.on("console", keep)
    return found


def test_the_timeline_of_a_known_day(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    set_timezone(shared_engine, org.name, "Asia/Jerusalem")
    user = add_user(shared_engine, f"t-{org.name}@example.com", Role.SUPERVISOR, org.name)
    write_past(
        shared_engine,
        org.name,
        "101",
        local(DAY, 0),
        [
            (local(DAY, 8), 1, "sip1"),
            (local(DAY, 12), 3, "sip1"),
            (local(DAY, 13), 1, "sip1"),
            (local(DAY, 17, 30), 2, None),
        ],
    )
    errors = policy_errors(page)
    sign_in(page, shared_server.base_url, user)
    page.get_by_role("link", name="Agent 1").click()
    expect(page.get_by_role("heading", name="Agent 1")).to_be_visible()
    page.get_by_label("Day", exact=True).fill(DAY.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{shared_server.base_url}/o/{org.name}/agents/101?day=2026-11-03")
    timeline = page.get_by_role("img", name="Statuses of Agent 1 on 2026-11-03")
    expect(timeline).to_be_visible()
    segments = timeline.locator("rect.seg")
    expect(segments).to_have_count(5)
    assert segments.nth(1).evaluate("r => getComputedStyle(r).fill") == LOGIN_GREEN
    assert segments.nth(2).locator("title").text_content() == "Lunch break: 12:00\u201313:00"
    box = timeline.bounding_box()
    assert box is not None
    assert box["width"] > 600
    totals = page.locator("table.totals tbody tr")
    expect(totals).to_have_count(3)
    expect(totals.first).to_contain_text("Logout")
    expect(totals.first).to_contain_text("14:30:00")
    expect(page.locator("table.history tbody tr")).to_have_count(4)
    page.get_by_role("link", name="Next day").click()
    expect(page).to_have_url(f"{shared_server.base_url}/o/{org.name}/agents/101?day=2026-11-04")
    expect(page.locator("svg.timeline-bar rect.seg")).to_have_count(1)
    assert errors == []


def test_a_report_with_its_chart_table_and_csv(
    page: Page, shared_server: ServerProcess, shared_engine: Engine, tmp_path: Path
) -> None:
    org = make_org(shared_engine, agent_count=3, extension_count=3)
    set_timezone(shared_engine, org.name, "Asia/Jerusalem")
    user = add_user(shared_engine, f"r-{org.name}@example.com", Role.SUPERVISOR, org.name)
    for n, user_id in enumerate(org.agents):
        write_past(
            shared_engine,
            org.name,
            user_id,
            local(DAY, 0),
            [(local(DAY, 8 + n), 1, f"sip{n + 1}"), (local(DAY, 16), 2, None)],
        )
    errors = policy_errors(page)
    sign_in(page, shared_server.base_url, user)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Time in status")).to_be_visible()
    page.get_by_label("First day").fill(DAY.isoformat())
    page.get_by_label("Last day").fill(DAY.isoformat())
    page.get_by_role("button", name="Show").click()
    chart = page.get_by_role("img", name="Time in each status per agent", exact=False)
    expect(chart).to_be_visible()
    expect(chart.locator("g.agent-bar")).to_have_count(3)
    expect(chart.locator("rect.seg")).to_have_count(6)
    assert chart.locator("rect.st-1").first.evaluate("r => getComputedStyle(r).fill") == (
        LOGIN_GREEN
    )
    rows = page.locator("#report-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("8:00:00")  # Agent 1: logged in 08-16
    expect(rows.nth(2)).to_contain_text("6:00:00")  # Agent 3: logged in 10-16
    expect(page.locator("#report-table tfoot")).to_contain_text("72:00:00")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"agentstatus-{org.name}-2026-11-03.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    found = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert {(r["user_id"], r["status"], r["seconds"]) for r in found} == {
        ("101", "1", "28800.000"),
        ("101", "2", "57600.000"),
        ("102", "1", "25200.000"),
        ("102", "2", "61200.000"),
        ("103", "1", "21600.000"),
        ("103", "2", "64800.000"),
    }
    assert errors == []


def test_a_bad_range_in_the_browser(
    page: Page, shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    user = add_user(shared_engine, f"b-{org.name}@example.com", Role.SUPERVISOR, org.name)
    sign_in(page, shared_server.base_url, user)
    page.goto(f"{shared_server.base_url}/o/{org.name}/reports?from=2026-11-05&to=2026-11-01")
    last = page.get_by_label("Last day")
    expect(last).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_have_text("The first day must not be after the last.")
    expect(page.locator("svg")).to_have_count(0)
