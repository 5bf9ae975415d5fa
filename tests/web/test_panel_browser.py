"""The agent's panel in Chromium, embedded in a CRM's page served from another site on
loopback (``http://localhost:PORT``; the service is ``http://127.0.0.1:PORT``): as an
iframe and as the custom element; changes made in it and elsewhere; origins not on the
list; expired and revoked links; Hebrew; a dropped connection; keyboard and 320 px."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FrameLocator, Locator, Page, Request, expect
from sqlalchemy import Engine, select, update

from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.phone_registration import PhoneSeen, PhoneState
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import embed_origins, panel_links, policies, presence
from agentstatus.service.missed_calls import record_missed
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_registration import store_phones
from agentstatus.service.tokens import Role
from agentstatus.storage.schema import history
from agentstatus.storage.schema import panel_links as panel_links_table
from agentstatus.web.i18n import translations
from tests.support.crm import CrmSite
from tests.support.factories import OrgFixture, make_org
from tests.support.forked import run_agentstatus
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, add_user, signed_in
from tests.support.wire import set_status

SCREENSHOTS = os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def crm() -> Iterator[CrmSite]:
    with CrmSite() as site:
        yield site


@pytest.fixture(scope="module")
def stranger() -> Iterator[CrmSite]:
    """Another site, not on any organisation's embed list."""
    with CrmSite() as site:
        yield site


@pytest.fixture
def floor(shared_engine: Engine, crm: CrmSite) -> OrgFixture:
    made = make_org(shared_engine, agent_count=3, extension_count=3)
    embed_origins.set_embed_origins(shared_engine, made.name, [crm.origin])
    return made


LinkMaker = Callable[..., str]


@pytest.fixture
def link_to(shared_engine: Engine, shared_server: ServerProcess) -> LinkMaker:
    def make(org: OrgFixture, user_id: str = "101", extension: str | None = None) -> str:
        created = panel_links.create_link(shared_engine, org.name, user_id, extension)
        return panel_links.panel_url(shared_server.base_url, org.name, created.token)

    return make


def iframe_page(site: CrmSite, link: str, name: str = "/agent") -> str:
    return site.page(
        name,
        "<!doctype html><title>CRM</title><h1>CRM: the customer</h1>"
        f'<iframe title="Status" src="{link}" style="width:320px;height:470px;border:0"></iframe>',
    )


def element_page(site: CrmSite, server: ServerProcess, link: str, lang: str = "en") -> str:
    return site.page(
        f"/element-{time.monotonic_ns()}",
        f'<!doctype html><html lang="{lang}"><title>CRM</title><h1>CRM</h1>'
        f'<aside style="width:320px"><agentstatus-panel lang="{lang}" link="{link}">'
        "</agentstatus-panel></aside>"
        f'<script type="module" src="{server.base_url}/panel/embed.js"></script></html>',
    )


def presence_of(database_url: str, org: str, user_id: str) -> dict[str, object]:
    """The agent's presence as the CLI reads it from the database."""
    code, stdout, stderr = run_agentstatus(["--database", database_url, "presence", org, "--json"])
    assert code == 0, stderr
    found: dict[str, object] = next(a for a in json.loads(stdout) if a["user_id"] == user_id)
    return found


def button(panel: Locator | FrameLocator, status: int) -> Locator:
    return panel.locator(f'button[data-status="{status}"]')


def test_the_iframe_changes_the_agents_status(
    page: Page, crm: CrmSite, floor: OrgFixture, link_to: LinkMaker, shared_database_url: str
) -> None:
    page.goto(iframe_page(crm, link_to(floor)))
    panel = page.frame_locator("iframe")
    expect(panel.locator("h2")).to_have_text("Agent 1")
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "true")
    button(panel, 1).click()
    expect(panel.get_by_role("alert")).to_have_text("Enter your extension to log in.")
    panel.get_by_label("Extension").fill("sip1")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "false")
    expect(panel.locator(".extension")).to_have_text("Extension sip1")
    assert presence_of(shared_database_url, floor.name, "101")["extension"] == "sip1"
    button(panel, 3).click()
    expect(button(panel, 3)).to_have_attribute("aria-pressed", "true")
    expect(panel.locator(".status-name")).to_have_text("Lunch break")
    found = presence_of(shared_database_url, floor.name, "101")
    assert (found["status"], found["extension"]) == (3, "sip1")
    if SCREENSHOTS:
        page.set_viewport_size({"width": 900, "height": 560})
        page.goto(crm_page(crm, link_to(floor, "102")))
        expect(page.frame_locator("iframe").locator("h2")).to_have_text("Agent 2")
        page.screenshot(path=str(Path(SCREENSHOTS) / "panel-in-a-crm.png"))


def crm_page(site: CrmSite, link: str) -> str:
    """A CRM's customer page with the panel in its sidebar (for the guide's screenshot)."""
    return site.page(
        "/customer",
        "<!doctype html><title>CRM</title><style>"
        "body{margin:0;font-family:system-ui,sans-serif;background:#eef1f5;color:#222}"
        "header{background:#3b2f6b;color:#fff;padding:12px 20px;font-weight:600}"
        "main{display:flex;gap:20px;padding:20px}"
        "section{flex:1;background:#fff;border-radius:8px;padding:16px 20px}"
        "aside{width:320px}dt{color:#666;font-size:.85rem}dd{margin:0 0 10px}</style>"
        "<header>Acme CRM · Customers</header><main><section><h2>Ruth Amsalem</h2><dl>"
        "<dt>Phone</dt><dd>+972 3 555 0142</dd><dt>Plan</dt><dd>Business, since 2021</dd>"
        "<dt>Last ticket</dt><dd>#4412 Router keeps restarting (open)</dd></dl></section>"
        f'<aside><iframe title="My status" src="{link}" '
        'style="width:320px;height:470px;border:0;border-radius:8px"></iframe></aside></main>',
    )


def test_the_custom_element_changes_the_agents_status(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_database_url: str,
) -> None:
    page.goto(element_page(crm, shared_server, link_to(floor, "102", "sip2")))
    panel = page.locator("agentstatus-panel")
    expect(panel.locator("h2")).to_have_text("Agent 2")
    expect(panel.get_by_label("Extension")).to_be_hidden()  # the link fixes it
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    button(panel, 5).click()
    expect(button(panel, 5)).to_have_attribute("aria-pressed", "true")
    found = presence_of(shared_database_url, floor.name, "102")
    assert (found["status"], found["extension"]) == (5, "sip2")
    code, stdout, stderr = run_agentstatus(
        ["--database", shared_database_url, "history", floor.name, "--json"]
    )
    assert code == 0, stderr
    assert [e["source"] for e in json.loads(stdout)["events"]] == ["panel", "panel"]


def test_changes_made_elsewhere_show_on_the_open_panel(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_engine: Engine,
) -> None:
    page.goto(element_page(crm, shared_server, link_to(floor)))
    panel = page.locator("agentstatus-panel")
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)  # the stream is open (its snapshot has arrived)
    set_status(shared_server.base_url, floor.code, "101", "sip3", 7)
    # Pushed by the stream, not polled (the panel has no timer that reloads); how fast is
    # a figure of `make bench`, not a clock in a test on CI's loaded machine.
    expect(button(panel, 7)).to_have_attribute("aria-pressed", "true")
    expect(panel.locator(".extension")).to_have_text("Extension sip3")

    supervisor = add_user(
        shared_engine, f"sup-{floor.name}@example.com", Role.SUPERVISOR, floor.name
    )
    with signed_in(shared_server.base_url, supervisor) as client:
        answer = client.post(
            f"/o/{floor.name}/agents/101/logout",
            headers={**SAME_ORIGIN, "accept": "application/json"},
        )
        assert answer.status_code == 200, answer.text
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "true", timeout=1000)
    expect(panel.locator(".extension")).to_have_text("Not logged in")
    expect(panel.get_by_label("Extension")).to_have_value("sip3")  # offered for the next login


def test_an_origin_not_on_the_list_can_neither_frame_nor_call_the_panel(
    page: Page,
    stranger: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_database_url: str,
    shared_engine: Engine,
) -> None:
    link = link_to(floor)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(iframe_page(stranger, link, "/framed"))
    page.wait_for_timeout(1000)
    framed = page.frames[1]
    assert framed.url.startswith("chrome-error://"), framed.url
    assert any("frame-ancestors" in text for text in refused), refused

    page.goto(element_page(stranger, shared_server, link))
    panel = page.locator("agentstatus-panel")
    # The element says why, naming the origin to add and how.
    message = panel.locator(".message")
    expect(message).to_contain_text(f"This site ({stranger.origin}) may not show")
    expect(message).to_contain_text(
        f"agentstatus org embed-origins {floor.name} … {stranger.origin}"
    )
    expect(panel.locator("section")).to_have_attribute("data-refused", "origin")
    expect(panel.locator("button")).to_have_count(0)
    assert (
        page.evaluate(
            """async (link) => {
            const url = new URL(link);
            try {
                await fetch(url.origin + url.pathname + "/api/status", {
                    method: "POST",
                    headers: {authorization: "Bearer " + url.hash.slice(1),
                              "content-type": "application/json"},
                    body: JSON.stringify({status: 1, extension: "sip1"}),
                });
                return "answered";
            } catch (error) {
                return "refused";
            }
        }""",
            link,
        )
        == "refused"
    )
    assert presence_of(shared_database_url, floor.name, "101")["status"] == 2
    # The organisation's settings page lists the refused origin (frame and script), with a
    # button that adds it.
    admin = add_user(shared_engine, f"adm-{floor.name}@example.com", Role.ADMIN, floor.name)
    with signed_in(shared_server.base_url, admin) as client:
        settings = client.get(f"/o/{floor.name}/admin/settings").text
    assert f'data-refused-origin="{stranger.origin}"' in settings
    assert f"Add {stranger.origin}" in settings


def test_an_expired_link_and_a_revoked_one_say_so_and_change_nothing(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_database_url: str,
) -> None:
    expired = panel_links.create_link(shared_engine, floor.name, "101", None)
    with shared_engine.begin() as conn:
        conn.execute(
            update(panel_links_table)
            .where(panel_links_table.c.id == expired.link.id)
            .values(expires_ms=0)
        )
    url = panel_links.panel_url(shared_server.base_url, floor.name, expired.token)
    page.goto(element_page(crm, shared_server, url))
    panel = page.locator("agentstatus-panel")
    expect(panel.locator(".message")).to_have_text(
        "This panel link has expired. Reload the CRM page to get a new one."
    )
    expect(panel.locator("button")).to_have_count(0)

    revoked = panel_links.create_link(shared_engine, floor.name, "102", "sip2")
    url = panel_links.panel_url(shared_server.base_url, floor.name, revoked.token)
    page.goto(iframe_page(crm, url, "/revoked"))
    framed = page.frame_locator("iframe")
    expect(button(framed, 1)).to_be_enabled()
    panel_links.revoke_link(shared_engine, floor.name, revoked.link.id)
    # The stream ends within the credential check's 2 s; the panel says why and stops.
    expect(framed.get_by_role("alert")).to_have_text(
        "This panel link was revoked. Ask your supervisor or your CRM.", timeout=8000
    )
    expect(button(framed, 1)).to_be_disabled()
    assert presence_of(shared_database_url, floor.name, "102")["status"] == 2


def test_hebrew_is_right_to_left(
    page: Page, crm: CrmSite, floor: OrgFixture, link_to: LinkMaker, shared_server: ServerProcess
) -> None:
    page.set_viewport_size({"width": 360, "height": 560})
    page.goto(element_page(crm, shared_server, link_to(floor, "101", "sip1"), lang="he"))
    panel = page.locator("agentstatus-panel")
    section = panel.locator("section")
    expect(section).to_have_attribute("dir", "rtl")
    expect(section).to_have_attribute("lang", "he")
    hebrew = translations("he").gettext
    expect(section).to_have_attribute("aria-label", hebrew("Status panel"))
    expect(panel.locator(".extension")).to_have_text(hebrew("Not logged in"))
    button(panel, 1).click()
    expect(panel.locator(".extension")).to_have_text(f"{hebrew('Extension')} sip1")
    name_box = panel.locator("h2").bounding_box()
    section_box = section.bounding_box()
    assert name_box is not None
    assert section_box is not None
    # Right to left: the name starts at the right edge.
    assert section_box["x"] + section_box["width"] - (name_box["x"] + name_box["width"]) < 20
    if SCREENSHOTS:
        panel.screenshot(path=str(Path(SCREENSHOTS) / "panel-he.png"))


def test_it_fits_320_px_and_is_keyboard_usable(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_database_url: str,
) -> None:
    page.goto(element_page(crm, shared_server, link_to(floor, "103")))
    panel = page.locator("agentstatus-panel")
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "true")
    box = panel.bounding_box()
    assert box is not None
    assert box["width"] <= 320
    overflow = panel.evaluate(
        "(host) => [...host.shadowRoot.querySelectorAll('*')]"
        ".filter((e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0).length"
    )
    assert overflow == 0
    expect(panel.get_by_role("group", name="Statuses")).to_be_visible()
    expect(panel.get_by_role("button", name="Lunch break")).to_be_visible()
    panel.get_by_label("Extension").fill("sip3")
    panel.get_by_label("Extension").focus()
    page.keyboard.press("Tab")  # to the first status, Login
    page.keyboard.press("Enter")
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")  # Lunch break (Logout is apart, after the statuses)
    page.keyboard.press("Space")
    expect(button(panel, 3)).to_have_attribute("aria-pressed", "true")
    assert presence_of(shared_database_url, floor.name, "103")["status"] == 3
    if SCREENSHOTS:
        panel.screenshot(path=str(Path(SCREENSHOTS) / "panel-en.png"))


def test_a_dropped_connection_is_said_and_recovered_with_one_stream(
    browser: Browser,
    crm: CrmSite,
    shared_database_url: str,
    shared_engine: Engine,
    tmp_path: Path,
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    embed_origins.set_embed_origins(shared_engine, org.name, [crm.origin])
    server = ServerProcess(shared_database_url, tmp_path / "server.log").start()
    try:
        created = panel_links.create_link(shared_engine, org.name, "101", "sip1")
        link = panel_links.panel_url(server.base_url, org.name, created.token)
        page = browser.new_page()
        streams: list[Request] = []
        page.on("request", lambda r: streams.append(r) if "/api/events" in r.url else None)
        page.goto(element_page(crm, server, link))
        panel = page.locator("agentstatus-panel")
        expect(button(panel, 2)).to_have_attribute("aria-pressed", "true")
        page.wait_for_timeout(1500)
        assert len(streams) == 1  # one stream per panel, however long it is open

        server.stop()
        expect(panel.locator(".connection")).to_have_text("Disconnected. Reconnecting…")
        server.start()
        expect(panel.locator(".connection")).to_have_text("Reconnected.", timeout=20000)
        settled = len(streams)
        set_status(server.base_url, org.code, "101", "sip1", 9)
        expect(button(panel, 9)).to_have_attribute("aria-pressed", "true", timeout=2000)
        page.wait_for_timeout(1500)
        assert len(streams) == settled  # reconnected on one stream, and it stays
        page.close()
        time.sleep(0.5)
        log = server.log_path.read_text()
        assert f"/panel/{org.name}/api/events" in log
        assert created.token not in log
    finally:
        server.stop()


def overdue_written(engine: Engine, oid: int, user_id: str) -> bool:
    """The server's limit warning for the agent is in the history."""
    with engine.connect() as conn:
        found = conn.execute(
            select(history.c.id).where(
                history.c.org_id == oid,
                history.c.user_id == user_id,
                history.c.kind == "agent.overdue",
            )
        ).first()
    return found is not None


def test_an_agent_over_the_limit_is_shown_so(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_engine: Engine,
) -> None:
    limit = 3
    policies.set_limit(shared_engine, floor.name, 3, Limit(limit, LimitAction.WARN))
    page.goto(element_page(crm, shared_server, link_to(floor, "101", "sip1")))
    panel = page.locator("agentstatus-panel")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    expect(panel.locator(".overdue")).to_be_hidden()
    button(panel, 3).click()
    expect(panel.locator("section")).to_have_attribute(
        "data-overdue", "", timeout=(limit + 3) * 1000
    )
    expect(panel.locator(".overdue")).to_have_text("Over the limit")
    # The server's warning (agent.overdue, at or after the limit) changes nothing: the
    # timer goes on from when the agent entered the status. The phone going unregistered
    # after the warning on the stream shows when the panel has read the warning.
    with shared_engine.connect() as conn:
        oid = org_id(conn, floor.name)
    deadline = time.monotonic() + 10
    while not overdue_written(shared_engine, oid, "101"):
        assert time.monotonic() < deadline, "no agent.overdue in the history"
        time.sleep(0.05)
    assert store_phones(shared_engine, oid, [PhoneSeen("sip1", PhoneState.UNREGISTERED)])
    expect(panel.locator(".phone-offline")).to_be_visible()
    entered_ms = next(
        a.since_ms for a in presence.list_presence(shared_engine, floor.name) if a.user_id == "101"
    )
    read_at_ms = time.time() * 1000
    shown = (panel.locator(".timer").text_content() or "").split(":")
    reading = int(shown[-1]) + 60 * int(shown[-2])
    # From the entry, the timer reads the seconds since (less a second of rounding and a
    # second of its tick); restarted at the warning it would read at least ``limit`` less.
    assert reading >= (read_at_ms - entered_ms) / 1000 - 2, (shown, read_at_ms - entered_ms)
    expect(panel.locator(".overdue")).to_be_visible()
    if SCREENSHOTS:
        panel.screenshot(path=str(Path(SCREENSHOTS) / "panel-overdue.png"))
    button(panel, 1).click()  # back: no longer over
    expect(panel.locator(".overdue")).to_be_hidden()


LABEL_OVERFLOW = r"""(host) => [...host.shadowRoot.querySelectorAll('button')].flatMap((b) => {
    const box = b.getBoundingClientRect();
    return [...b.querySelectorAll('.label')].filter((l) => {
        const r = l.getBoundingClientRect();
        const outside = r.left < box.left - 0.5 || r.right > box.right + 0.5;
        return outside || l.scrollWidth > l.clientWidth + 1;
    }).map((l) => l.textContent);
}).concat([...host.shadowRoot.querySelectorAll('button')]
    .filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent))
  .concat([...host.shadowRoot.querySelectorAll('.label')].flatMap((l) => {
    // No word is cut across two lines ("Administrati / ve time").
    const node = l.firstChild;
    const split = [];
    for (const m of node.textContent.matchAll(/[^\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) split.push('split: ' + m[0]);
    }
    return split;
}))"""


@pytest.mark.parametrize("lang", ["en", "he"])
def test_a_chosen_status_never_overflows_its_button_at_320_px(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    lang: str,
) -> None:
    page.goto(element_page(crm, shared_server, link_to(floor, "101", "sip1"), lang=lang))
    panel = page.locator("agentstatus-panel")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    widths = panel.evaluate(
        "(host) => [...host.shadowRoot.querySelectorAll('.statuses button')]"
        ".map((b) => Math.round(b.getBoundingClientRect().width))"
    )
    for status in (5, 13, 12, 7, 3):
        button(panel, status).click()
        expect(button(panel, status)).to_have_attribute("aria-pressed", "true")
        expect(button(panel, status)).to_be_enabled()
        assert panel.evaluate(LABEL_OVERFLOW) == [], status
        # Choosing makes the name bold, never the button wider.
        assert (
            panel.evaluate(
                "(host) => [...host.shadowRoot.querySelectorAll('.statuses button')]"
                ".map((b) => Math.round(b.getBoundingClientRect().width))"
            )
            == widths
        )
    box = panel.bounding_box()
    assert box is not None
    assert box["width"] <= 320
    if SCREENSHOTS:
        button(panel, 5).click()
        expect(button(panel, 5)).to_have_attribute("aria-pressed", "true")
        panel.screenshot(path=str(Path(SCREENSHOTS) / f"panel-320-{lang}.png"))


def test_logout_is_apart_distinct_and_asked_first(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_database_url: str,
) -> None:
    page.goto(element_page(crm, shared_server, link_to(floor, "102", "sip2")))
    panel = page.locator("agentstatus-panel")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    statuses = panel.get_by_role("group", name="Statuses")
    expect(statuses.locator('button[data-status="2"]')).to_have_count(0)  # not among them
    logout = panel.get_by_role("button", name="Logout")
    expect(logout).to_be_visible()
    login_box, logout_box, group_box = (
        button(panel, 1).bounding_box(),
        logout.bounding_box(),
        statuses.bounding_box(),
    )
    assert login_box is not None
    assert logout_box is not None
    assert group_box is not None
    assert logout_box["y"] >= group_box["y"] + group_box["height"] + 8  # placed apart
    colours = panel.evaluate(
        "(host) => [host.shadowRoot.querySelector('.statuses button[data-status=\"1\"]'),"
        " host.shadowRoot.querySelector('button.logout')]"
        ".map((b) => getComputedStyle(b).color + getComputedStyle(b).borderColor)"
    )
    assert colours[0] != colours[1]  # drawn differently
    logout.click()
    dialog = panel.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Log out now?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert presence_of(shared_database_url, floor.name, "102")["status"] == 1
    logout.click()
    dialog.get_by_role("button", name="Log out").click()
    expect(logout).to_have_attribute("aria-pressed", "true")
    assert presence_of(shared_database_url, floor.name, "102")["status"] == 2
    if SCREENSHOTS:
        button(panel, 1).click()
        expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
        logout.click()
        expect(dialog).to_be_visible()
        page.screenshot(path=str(Path(SCREENSHOTS) / "panel-logout-asked.png"))
        dialog.get_by_role("button", name="Cancel").click()


def test_the_token_leaves_the_address_and_the_panel_keeps_working(
    page: Page, floor: OrgFixture, link_to: LinkMaker, shared_database_url: str
) -> None:
    link = link_to(floor, "103", "sip3")
    token = link.split("#", 1)[1]
    page.goto(link)
    panel = page.locator("agentstatus-panel")
    expect(button(panel, 2)).to_have_attribute("aria-pressed", "true")
    assert token not in page.url
    assert page.evaluate("location.hash") == ""
    # Opened by itself (not framed), the page says what it is and how a CRM shows it.
    expect(page.locator("[data-panel-about]")).to_be_visible()
    expect(page.locator("[data-panel-about]")).to_contain_text(
        f"agentstatus org embed-origins {floor.name}"
    )
    # A restart of the panel (a changed attribute, as after a refused status) reads the
    # link it kept, not the address.
    panel.evaluate("(host) => host.setAttribute('lang', 'he')")
    expect(panel.locator("section")).to_have_attribute("dir", "rtl")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    assert presence_of(shared_database_url, floor.name, "103")["status"] == 1
    assert token not in page.url


def test_a_missed_call_changes_nothing_in_the_panel(
    page: Page,
    crm: CrmSite,
    floor: OrgFixture,
    link_to: LinkMaker,
    shared_server: ServerProcess,
    shared_engine: Engine,
) -> None:
    """An ``agent.missed_call`` event (the agent's statuses unchanged) does not restart
    the panel's timer: the agent is in its status since it entered it.

    The missed call is followed on the stream by the phone going unregistered, which the
    panel shows: once that shows, the missed call (before it on the stream) was read."""
    page.goto(element_page(crm, shared_server, link_to(floor, "101", "sip1")))
    panel = page.locator("agentstatus-panel")
    button(panel, 1).click()
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
    timer = panel.locator(".timer")
    expect(timer).to_have_text(
        re.compile(r"^0:00:(0[3-9]|[1-5][0-9])$")
    )  # counting since the login
    with shared_engine.connect() as conn:
        oid = org_id(conn, floor.name)
    assert record_missed(shared_engine, oid, "101", MissedOffer("PJSIP/sip1", "support", 9000))
    assert store_phones(shared_engine, oid, [PhoneSeen("sip1", PhoneState.UNREGISTERED)])
    expect(panel.locator(".phone-offline")).to_be_visible()
    # Restarted, it would read 0:00:00 or 0:00:01 now; it reads on from 0:00:03.
    shown = (timer.text_content() or "").split(":")
    assert int(shown[-1]) + 60 * int(shown[-2]) >= 3, shown
    expect(button(panel, 1)).to_have_attribute("aria-pressed", "true")
