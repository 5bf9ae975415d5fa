"""The live floor board: the organisation's agents, a page at a time for a large one
(``service/board.py`` reads the page, the counts and the cursor together), then kept live
by ``board.js`` from the event stream that starts where the page's snapshot ends."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from agentstatus.domain.calls import Call
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.integers import INT32_MAX, parse_int
from agentstatus.service import statuses
from agentstatus.service.board import BoardPage, board_page
from agentstatus.service.errors import NotFound, Unavailable
from agentstatus.service.next_status import next_statuses_of_org
from agentstatus.service.phone_calls import calls_of_org
from agentstatus.service.phone_registration import phones_of_org
from agentstatus.service.presence import force_logout, logout_everyone
from agentstatus.service.statuses import Status
from agentstatus.service.timezones import get_timezone
from agentstatus.storage.types import OperationalError
from agentstatus.web import messages
from agentstatus.web.agent_paths import user_id_of
from agentstatus.web.pages.common import PageRequest, Refused, error_page, page_request, render
from agentstatus.web.pages.confirm import ask_logout, ask_logout_all, is_confirmed
from agentstatus.web.queue_strip import board_queues
from agentstatus.web.status_names import displayed

BOARD_PAGE = 500
"""Agents on one page of the board: a 50,000-agent organisation's whole board was 26 MB
of HTML (and seconds of rendering) per load. Counts per status are of everyone."""
VIRTUAL_PAST = 500
"""Past this many rows the compact board keeps only the rows in view in the table
(``board.js``); its page sends them in an inert template, never laid out all at once."""
COMPACT_PAGE = 2000
"""Agents on one page of the compact board (``?view=compact``): its rows are 28 px and
only those in view are in the document (``board.js``), so a page holds four times more."""
MAX_QUERY = 128


@dataclass(frozen=True, slots=True)
class BoardView:
    """Which agents the page shows: a search, a status, a page (1-based)."""

    text: str
    status: int | None
    page: int
    compact: bool = False

    @property
    def size(self) -> int:
        return COMPACT_PAGE if self.compact else BOARD_PAGE

    @staticmethod
    def of(request: Request) -> BoardView | None:
        """The view asked for, or None when a parameter is not one the page takes."""
        query = request.query_params
        text = query.get("q", "").strip()[:MAX_QUERY]
        status_text, page_text = query.get("status", ""), query.get("page", "1")
        status = parse_int(status_text, 0, INT32_MAX) if status_text else None
        page = parse_int(page_text, 1, INT32_MAX)
        if page is None or (status_text and status is None):
            return None
        return BoardView(text, status, page, query.get("view") == "compact")

    def link(self, org: str, page: int) -> str:
        query = {
            "q": self.text,
            "status": "" if self.status is None else str(self.status),
            "view": "compact" if self.compact else "",
        }
        kept = urlencode({k: v for k, v in query.items() if v} | {"page": str(page)})
        return f"/o/{org}/?{kept}"


@dataclass(frozen=True, slots=True)
class BoardRow:
    user_id: str
    name: str
    extension: str | None
    status: int
    since_ms: int
    since: str
    logged_in: bool
    call_state: str | None = None
    """The state of the agent's live call (Ringing, Dialing, Talking, Hold), if any."""
    phone: str = "unknown"
    """Its extension's phone: registered, unregistered (shown: "Phone offline"), unknown."""
    next_status: int | None = None
    """The status queued for when the agent's call and wrap-up end."""


async def _board_page(page: PageRequest, view: BoardView) -> BoardPage:
    """The page asked for (the last one when it asks past the end). Not the streams'
    shared snapshot (up to a second old): an agent added a moment ago must be on it."""

    def read(number: int) -> BoardPage:
        return board_page(
            page.context.engine,
            page.context.fanout.fence,
            page.org,
            needle=view.text,
            status=view.status,
            offset=(number - 1) * view.size,
            limit=view.size,
        )

    found = await asyncio.to_thread(read, view.page)
    last = max(1, -(-found.matching // view.size))
    if view.page > last:
        found = await asyncio.to_thread(read, last)
    return found


def status_catalogue(found: list[Status]) -> list[dict[str, object]]:
    """The catalogue as the pages' scripts read it (a JSON block in the page)."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "color": s.color,
            "available": s.available,
            "limit_seconds": s.limit_seconds,
        }
        for s in found
    ]


async def board(request: Request) -> Response:
    try:
        page = await page_request(
            request, request.path_params.get("org") or request.query_params.get("org")
        )
    except Refused as refused:
        return refused.response
    view = BoardView.of(request)
    if view is None:
        return error_page(request, 422, messages.BAD_NUMBER)
    try:
        taken = await _board_page(page, view)
    except (TimeoutError, OperationalError):  # no consistent snapshot in time
        return error_page(request, 503, messages.BOARD_UNAVAILABLE)
    engine = page.context.engine
    found = await asyncio.to_thread(statuses.list_statuses, engine, page.org)
    catalogue = displayed(found, page.language)  # the reader's names of the defaults
    zone = await asyncio.to_thread(get_timezone, engine, page.org)
    calls = await asyncio.to_thread(calls_of_org, engine, page.org)
    phones = await asyncio.to_thread(phones_of_org, engine, page.org)
    nexts = await asyncio.to_thread(next_statuses_of_org, engine, page.org)
    queues = await asyncio.to_thread(board_queues, engine, page.org, now_ms())
    rows = [
        BoardRow(
            a.user_id,
            a.name,
            a.extension,
            a.status,
            a.since_ms,
            to_iso(a.since_ms),
            a.extension is not None or a.status != LOGOUT,
            _call_state(calls.get(a.extension or "", [])),
            phones[a.extension].value if a.extension in phones else "unknown",
            nexts.get(a.user_id),
        )
        for a in taken.agents
    ]
    # In name order (the database's); the page's script sorts again on request.
    pages = max(1, -(-taken.matching // view.size))
    number = min(view.page, pages)
    return render(
        page,
        "board.html",
        {
            "rows": rows,
            "total": taken.total,
            "paged": taken.total > view.size,
            # Past one page of either size, the compact view is another page (reloaded).
            "sizes_differ": taken.total > BOARD_PAGE,
            "view": view,
            "page_number": number,
            "pages": pages,
            "matching": taken.matching,
            "previous_page": view.link(page.org, number - 1) if number > 1 else None,
            "next_page": view.link(page.org, number + 1) if number < pages else None,
            "statuses": catalogue,
            "by_id": {s.id: s for s in catalogue},
            "counts": Counter(taken.counts),  # 0 for a status nobody is in
            "cursor": taken.cursor,
            "catalogue_json": status_catalogue(catalogue),
            # Every extension's phone, for the script: an agent logging in at one shows it.
            "phones_json": {sip: state.value for sip, state in phones.items()},
            "zone": zone,
            "queues": queues,
            "virtual_past": VIRTUAL_PAST,
            # The callers waiting, for the script to follow the queue.* events.
            "queues_json": {q.name: [list(w) for w in q.waiting] for q in queues},
        },
    )


def _call_state(calls: list[Call]) -> str | None:
    return calls[-1].state.value if calls else None


async def catalogue_css(request: Request) -> Response:
    """The organisation's status colours as CSS custom properties: the pages carry no
    inline style (the Content-Security-Policy forbids it)."""
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    found = await asyncio.to_thread(statuses.list_statuses, page.context.engine, page.org)
    # Colours are validated #rrggbb and ids integers: nothing else reaches the sheet.
    css = "".join(f".st-{s.id}{{--st:{s.color}}}\n" for s in found)
    return Response(css, media_type="text/css", headers={"cache-control": "no-cache"})


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def logout_agent(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    user_id = user_id_of(request.path_params["user_id"])
    if user_id is None:
        return error_page(request, 404, messages.NO_SUCH_AGENT)
    if not _wants_json(request) and not is_confirmed(await request.form(max_fields=8)):
        return await ask_logout(page, user_id)  # asked first, also without the script
    try:
        done = await force_logout(
            page.context.changes, page.context.engine, page.org, user_id, page.actor
        )
    except NotFound:
        return error_page(request, 404, messages.NO_SUCH_AGENT)
    except Unavailable:
        return error_page(request, 503, messages.NOT_APPLIED)
    if _wants_json(request):
        return JSONResponse({"logged_out": done})
    return RedirectResponse(f"/o/{page.org}/", status_code=303)


async def logout_all(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"], admin=True)
    except Refused as refused:
        return refused.response
    if not _wants_json(request) and not is_confirmed(await request.form(max_fields=8)):
        return ask_logout_all(page)
    try:
        count = await logout_everyone(
            page.context.changes, page.context.engine, page.org, page.actor
        )
    except Unavailable:
        return error_page(request, 503, messages.NOT_APPLIED)
    if _wants_json(request):
        return JSONResponse({"logged_out": count})
    return RedirectResponse(f"/o/{page.org}/", status_code=303)
