"""The report page's calls chart in Chromium, in English and Hebrew, from a day written
through the service's own paths (the demo's day: status changes through the change path,
calls through the phone-system store, wrap-ups as their rule makes them, missed calls in
the event log). Screenshots of the calls section go to $AGENTSTATUS_SCREENSHOTS_DIR (the
docs' come from ``AGENTSTATUS_SCREENSHOTS_DIR=docs/screenshots``), else to the test's own
directory."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from agentstatus.cli.demo_day import Written, day_start_ms, write_days
from agentstatus.domain.clock import now_ms
from agentstatus.service import agents, extensions
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import standalone_changes
from agentstatus.service.timezones import set_timezone
from agentstatus.service.tokens import Role
from agentstatus.storage.database import reading
from agentstatus.web.days import today
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.web.test_board_browser import sign_in

ZONE = ZoneInfo("Asia/Jerusalem")
NAMES = ["Dana Levi", "Yossi Cohen", "Maya Katz", "Omer Ben-David", "Noa Friedman"]


def _write(url: str, engine: Engine, org: str, user_ids: list[str]) -> Written:
    """Yesterday and today until now, as the demo writes them (in a thread of its own:
    the browser's event loop runs in this one)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)

    async def write() -> Written:
        async with standalone_changes(url) as changes:
            return await write_days(changes, engine, org, oid, user_ids, ZONE, now_ms())

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, write()).result(timeout=120)


def _edges(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"], box["x"] + box["width"]


def test_the_calls_chart_in_english_and_hebrew(
    page: Page,
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_database_url: str,
    tmp_path: Path,
) -> None:
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    org = make_org(shared_engine, agent_count=len(NAMES), extension_count=0)
    set_timezone(shared_engine, org.name, ZONE.key)
    yesterday = today(ZONE, now_ms()) - timedelta(days=1)
    agents.exist_since(shared_engine, org.name, day_start_ms(yesterday, ZONE))
    for user_id, name in zip(org.agents, NAMES, strict=True):
        agents.rename_agent(shared_engine, org.name, user_id, name)
        extensions.add_extension(shared_engine, org.name, f"sip{user_id}")
    written = _write(shared_database_url, shared_engine, org.name, org.agents)
    assert written.missed_calls >= len(NAMES)  # one each at least (the demo plans them)
    user = add_user(shared_engine, f"calls-{org.name}@example.com", Role.SUPERVISOR, org.name)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, shared_server.base_url, user)
    day = yesterday.isoformat()
    for code in ("en", "he"):
        if code == "he":
            page.get_by_role("button", name="עברית").click()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.goto(f"{shared_server.base_url}/o/{org.name}/reports?from={day}&to={day}")
        section = page.locator("section.calls-report")
        bars = section.locator("svg.calls-bars g.calls-bar")
        expect(bars).to_have_count(len(NAMES))
        expect(section.locator("#calls-table tbody tr")).to_have_count(len(NAMES))
        first = bars.first
        expect(first.locator("rect.seg")).to_have_count(3)
        talk = first.locator("rect.calls-talk")
        assert talk.evaluate("r => getComputedStyle(r).fill") == "rgb(36, 113, 163)"
        # The occupancy after each bar is the table's figure.
        figure = first.locator("text.bar-figure").text_content() or ""
        cell = section.locator("#calls-table tbody tr").first.locator("td").last
        assert figure.strip() == (cell.text_content() or "").strip()
        assert figure.strip().endswith("%")
        label_left, label_right = _edges(first.locator("text.bar-label"))
        figure_left, figure_right = _edges(first.locator("text.bar-figure"))
        bar_lefts, bar_rights = zip(
            *(_edges(r) for r in first.locator("rect.seg").all()), strict=True
        )
        if code == "en":  # the names, the bar, then the figure
            assert label_right <= min(bar_lefts) + 1
            assert figure_left >= max(bar_rights)
        else:  # right to left: the names on the right, the bar growing leftwards
            assert label_left >= max(bar_rights) - 1
            assert figure_right <= min(bar_lefts)
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(folder / f"report-calls-{code}.png"))
