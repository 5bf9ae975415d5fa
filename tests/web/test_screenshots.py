"""Screenshots of the board, an agent's day (with calls and a limit's warning) and a
report, in English and Hebrew, from a floor with a few days of history. They go to
$AGENTSTATUS_SCREENSHOTS_DIR (the docs' screenshots come from
``AGENTSTATUS_SCREENSHOTS_DIR=docs/screenshots``), else to the test's own directory."""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from agentstatus.domain.calls import Call, CallChange, CallState, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import OVERDUE_EVENT, WARN_POLICY, call_kind, call_policy
from agentstatus.service import agents
from agentstatus.service.timezones import set_timezone
from agentstatus.service.tokens import Role
from agentstatus.web.days import today
from tests.support.factories import make_org
from tests.support.past import write_past
from tests.support.server import ServerProcess
from tests.support.web import add_user
from tests.support.wire import set_status
from tests.web.test_board_browser import sign_in

ZONE = ZoneInfo("Asia/Jerusalem")
NAMES = ["Dana Levi", "Yossi Cohen", "Maya Katz", "Omer Ben-David", "Noa Friedman", "Amir Haddad"]
# Where each agent is now: Login, Lunch break, Administrative time, Training, Login, Logout.
NOW = [1, 3, 5, 11, 1, 2]


def local(day: date, minutes: int) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(minutes=minutes)
    return int(moment.timestamp() * 1000)


def a_working_day(day: date, n: int, sip: str) -> list[tuple[int, int, str | None]]:
    """A plausible day of agent ``n``: in at about 8, lunch, a break or a meeting, out
    at about 5 (minutes from midnight, different for each agent and day)."""
    shift = (n * 17 + day.day * 7) % 40
    plan = [
        (8 * 60 + shift, 1),
        (10 * 60 + 30 + shift, 7 if n % 2 else 5),
        (10 * 60 + 45 + shift, 1),
        (12 * 60 + (n % 3) * 30, 3),
        (12 * 60 + 45 + (n % 3) * 30, 1),
        (14 * 60 + 30, 12 if n % 3 == 0 else 11 if n % 3 == 1 else 13),
        (15 * 60 + 15 + shift // 2, 1),
        (17 * 60 + shift, 2),
    ]
    return [(local(day, m), s, None if s == 2 else sip) for m, s in plan]


def calls_and_a_warning(sip: str, day: date) -> list[tuple[int, dict[str, object]]]:
    """Two calls in and one out in the morning of ``day`` and lunch's limit passed, as
    the phone-system link and the deadline runner write them (rows for ``write_past``)."""
    dana = Call("c1", sip, Direction.IN, CallState.RINGING, "Dana", "0501234567", "", 0)
    anon = Call("c2", sip, Direction.IN, CallState.RINGING, "", "0527654321", "", 0)
    out = Call("c3", sip, Direction.OUT, CallState.DIALING, "", "", "035551234", 0)
    steps: list[tuple[int, CallChange, Call]] = []
    for start, call, held in ((9 * 60 + 5, dana, True), (9 * 60 + 40, anon, False)):
        at = local(day, start)
        talking = replace(call, started_ms=at, state=CallState.TALKING, answered_ms=at + 8000)
        steps.append((at, CallChange.STARTED, replace(call, started_ms=at)))
        steps.append((at + 8000, CallChange.ANSWERED, talking))
        if held:
            steps.append((at + 90_000, CallChange.HELD, replace(talking, state=CallState.HOLD)))
            steps.append((at + 120_000, CallChange.RESUMED, talking))
        steps.append((at + 240_000, CallChange.ENDED, talking))
    at = local(day, 10 * 60 + 5)
    steps.append((at, CallChange.STARTED, replace(out, started_ms=at)))
    steps.append((at + 25_000, CallChange.ENDED, replace(out, started_ms=at)))
    rows: list[tuple[int, dict[str, object]]] = [
        (
            at_ms,
            {
                "source": "pbx",
                "policy": call_policy(change),
                "kind": call_kind(change),
                "call": orjson.dumps(call.as_json()).decode(),
            },
        )
        for at_ms, change, call in steps
    ]
    due = local(day, 12 * 60 + 30)
    rows.append(
        (due, {"source": "system", "policy": WARN_POLICY, "kind": OVERDUE_EVENT, "due_ms": due})
    )
    return rows


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's header chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def shoot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_screenshots_in_english_and_hebrew(
    page: Page, shared_server: ServerProcess, shared_engine: Engine, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    org = make_org(shared_engine, agent_count=len(NAMES), extension_count=len(NAMES), name="demo")
    set_timezone(shared_engine, org.name, "Asia/Jerusalem")
    user = add_user(shared_engine, "supervisor@example.com", Role.SUPERVISOR, org.name, "Sue")
    now_day = today(ZONE, now_ms())
    past = [now_day - timedelta(days=d) for d in (3, 2, 1)]
    for n, (user_id, sip, name) in enumerate(zip(org.agents, org.extensions, NAMES, strict=True)):
        agents.rename_agent(shared_engine, org.name, user_id, name)
        changes = [c for day in past for c in a_working_day(day, n, sip)]
        others = calls_and_a_warning(sip, past[-1]) if n == 0 else []
        write_past(shared_engine, org.name, user_id, local(past[0], 0), changes, others)
    for user_id, sip, status in zip(org.agents, org.extensions, NOW, strict=True):
        if status != 2:
            set_status(shared_server.base_url, org.code, user_id, sip, 1)
            if status != 1:
                set_status(shared_server.base_url, org.code, user_id, sip, status)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, shared_server.base_url, user)
    base = f"{shared_server.base_url}/o/{org.name}"
    day = f"{base}/agents/{org.agents[0]}?day={past[-1].isoformat()}"
    report = f"{base}/reports?from={past[0].isoformat()}&to={past[-1].isoformat()}"
    taken: list[Path] = []
    for code in ("en", "he"):
        if code == "he":
            page.get_by_role("button", name="עברית").click()
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.goto(f"{base}/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        taken.append(shoot(page, folder, f"board-{code}"))
        # Asked first: the dialog naming the agent (then cancelled).
        page.locator(f'tr[data-user-id="{org.agents[0]}"] button[data-logout]').click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(NAMES[0])
        taken.append(shoot(page, folder, f"board-confirm-{code}"))
        dialog.locator("[data-confirm-no]").click()
        expect(dialog).to_be_hidden()
        # The row's status menu: the enabled statuses, a reason (then cancelled).
        page.locator(f'tr[data-user-id="{org.agents[0]}"] button[data-set-status]').click()
        menu = page.locator("#status-dialog")
        expect(menu).to_be_visible()
        menu.locator('input[name="status"][value="11"]').check()
        menu.locator("#status-reason").fill("Product training" if code == "en" else "הדרכת מוצר")
        taken.append(shoot(page, folder, f"board-status-menu-{code}"))
        menu.locator('button[value="cancel"]').click()
        expect(menu).to_be_hidden()
        # Replay of yesterday at 12:30: the banner, the tinted board, no action.
        page.locator("#replay-at").fill(f"{past[-1].isoformat()}T12:30:00")
        page.locator("form[data-replay] button[type=submit]").click()
        expect(page.locator("#replay-banner")).to_be_visible()
        expect(page.locator("#board [data-logout]:visible")).to_have_count(0)
        taken.append(shoot(page, folder, f"board-replay-{code}"))
        page.goto(day)
        expect(page.locator("svg.timeline-bar rect.seg")).to_have_count(9)
        expect(page.locator(".timeline-view")).to_have_attribute("data-zoomed", "yes")
        expect(page.locator('table.history tr[data-kind="call"]')).to_have_count(10)
        expect(page.locator('table.history tr[data-kind="warning"]')).to_have_count(1)
        taken.append(shoot(page, folder, f"agent-day-{code}"))
        page.goto(report)
        expect(page.locator("svg.stacked-bars g.agent-bar")).to_have_count(len(NAMES))
        taken.append(shoot(page, folder, f"report-{code}"))
    for path in taken:
        width, height = png_size(path)
        assert width == 1280
        assert height >= 600
