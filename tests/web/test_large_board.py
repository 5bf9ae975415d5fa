"""A large organisation's board does not stall the others (issue 21, item 25): the board
is in pages of ``BOARD_PAGE`` agents (the counts are of everyone), its snapshot is read
without SQLite's write lock, and pages are rendered off the event loop. The figures under
load are ``python -m bench.board_stall``'s."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from agentstatus.events.feed import snapshot
from agentstatus.service.presence import AgentPresence
from agentstatus.service.tokens import Role
from agentstatus.storage.commit_order import CommitFence
from agentstatus.web.pages.admin.forms import ADMIN_PAGE
from agentstatus.web.pages.board import BOARD_PAGE
from agentstatus.web.static_files import StaticFiles
from agentstatus.web.templating import Pages, RenderedPage
from tests.support.bulk import make_big_org
from tests.support.server import ServerProcess
from tests.support.web import add_user, signed_in

ROW = re.compile(r'<tr data-user-id="([^"]+)"')


def test_the_board_of_a_large_organisation_is_in_pages(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    size = 2 * BOARD_PAGE + 7
    org = make_big_org(shared_engine, size)
    user = add_user(shared_engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name)
    seen: list[str] = []
    with signed_in(shared_server.base_url, user) as client:
        url: str | None = f"/o/{org.name}/"
        while url is not None:
            page = client.get(url)
            assert page.status_code == 200
            assert 'data-paged="yes"' in page.text
            assert f'data-count="all">{size}<' in page.text  # everyone, on every page
            assert f'data-count="2">{size}<' in page.text
            rows = ROW.findall(page.text)
            assert 0 < len(rows) <= BOARD_PAGE
            seen += rows
            found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
            url = found.group(1).replace("&amp;", "&") if found else None
        assert sorted(seen) == sorted(org.agents)
        searched = client.get(f"/o/{org.name}/", params={"q": "A1003"})
        assert ROW.findall(searched.text) == ["a1003"]
        none = client.get(f"/o/{org.name}/", params={"status": "1"})
        assert ROW.findall(none.text) == []
        assert client.get(f"/o/{org.name}/", params={"page": "0"}).status_code == 422


class _Held:
    """A snapshot's sink that stops at the first agent until told to go on."""

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.go_on = threading.Event()

    def add(self, agent: AgentPresence) -> None:
        self.reading.set()
        self.go_on.wait(30)

    def finish(self, cursor: int) -> int:
        return cursor


def test_a_snapshot_being_read_does_not_hold_other_writers(engine: Engine, tmp_path: Path) -> None:
    org = make_big_org(engine, 3)
    held = _Held()
    reader = threading.Thread(target=snapshot, args=(engine, CommitFence(engine), org.name, held))
    reader.start()
    try:
        assert held.reading.wait(30)
        path = str(engine.url.database)
        with sqlite3.connect(path, timeout=0.5, isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" while the read held it
            other.execute("UPDATE presence SET status = status")
            other.execute("COMMIT")
    finally:
        held.go_on.set()
        reader.join(30)


async def test_pages_are_rendered_off_the_event_loop() -> None:
    pages = Pages(StaticFiles())
    response = pages.render("en", "error.html", {"visitor": None, "status": 404, "message": "x"})
    assert isinstance(response, RenderedPage)
    threads: list[int] = []
    real = response._render

    def render() -> bytes:
        threads.append(threading.get_ident())
        return real()

    response._render = render  # type: ignore[method-assign]
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    await response({"type": "http", "method": "GET", "headers": []}, receive, send)
    assert threads
    assert threads[0] != threading.get_ident()
    length = dict(sent[0]["headers"])[b"content-length"]
    assert int(length) == len(sent[1]["body"]) > 0
    assert asyncio.get_running_loop() is not None


def test_the_administration_lists_are_in_pages(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    size = 2 * ADMIN_PAGE + 3
    org = make_big_org(shared_engine, size)
    admin = add_user(shared_engine, f"admin-{org.name}@example.com", Role.ADMIN, org.name)
    with signed_in(shared_server.base_url, admin) as client:
        for area, pattern in (
            ("agents", r'<tr data-user-id="([^"]+)"'),
            ("extensions", r'<tr data-extension="([^"]+)"'),
        ):
            seen: list[str] = []
            url: str | None = f"/o/{org.name}/admin/{area}"
            while url is not None:
                page = client.get(url)
                assert page.status_code == 200, page.text
                found = re.findall(pattern, page.text)
                assert 0 < len(found) <= ADMIN_PAGE
                seen += found
                link = re.search(r'<a href="([^"]+)" rel="next">', page.text)
                url = link.group(1) if link else None
            assert len(set(seen)) == size, area
        wrong = client.get(f"/o/{org.name}/admin/agents", params={"page": "\u00b2"})
        assert wrong.status_code == 422
