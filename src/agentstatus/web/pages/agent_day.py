"""An agent's day: the bar of its statuses over the day's hours (in the organisation's
time zone), the time in each status, and the day's history newest first, in pages: its
changes of status, its calls' events and its limits' warnings, each shown as what it is."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import orjson
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import MISSED_CALL_EVENT, OVERDUE_EVENT, PHONE_EVENT
from agentstatus.domain.integers import INT64_MAX, parse_int
from agentstatus.service import agent_days, statuses
from agentstatus.service.errors import NotFound
from agentstatus.service.history import HistoryEvent, HistoryPage, read_history
from agentstatus.service.timezones import get_timezone
from agentstatus.web import messages
from agentstatus.web.agent_paths import user_id_of
from agentstatus.web.days import BadDay, DayBounds, day_bounds, parse_day, today
from agentstatus.web.i18n import language
from agentstatus.web.pages.common import PageRequest, Refused, error_page, page_request, render
from agentstatus.web.pages.figures import figures
from agentstatus.web.status_names import displayed
from agentstatus.web.timeline import (
    Segment,
    Span,
    Tick,
    Total,
    activity_window,
    clipped,
    hour_ticks,
    segments,
    spans,
    totals,
)

PAGE_SIZE = 50
CHANGE, CALL, WARNING, PHONE = "change", "call", "warning", "phone"
MISSED = "missed"


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a call's event tells a reader: which way, the other party, the extension."""

    outgoing: bool
    number: str
    """The caller's number (in) or the number dialled (out); "" when unknown."""
    name: str
    """The caller's name, when the phone system knew it."""
    extension: str


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the day's history, as the page shows it."""

    event: HistoryEvent
    kind: str
    """CHANGE (a change of status), CALL (a call's event) or WARNING (agent.overdue)."""
    change: str
    """For a call, what happened: the event type's last part (started, answered, ...)."""
    call: CallFacts | None = None
    missed: tuple[int, str] | None = None
    """For a missed call (MISSED): how many in a row, and the queue."""


def line(event: HistoryEvent) -> Line:
    """A history row as a change, a call's event or a warning (by its event type)."""
    kind = event.type
    if event.is_change:
        return Line(event, CHANGE, "")
    if kind == OVERDUE_EVENT:
        return Line(event, WARNING, "")
    if kind == MISSED_CALL_EVENT:
        detail = orjson.loads(event.detail or "{}")
        return Line(
            event, MISSED, "", missed=(int(detail.get("count", 1)), detail.get("queue", ""))
        )
    if kind == PHONE_EVENT:  # the phone's registration: its state in ``change``
        detail = orjson.loads(event.detail or "{}")
        return Line(event, PHONE, str(detail.get("phone", "")))
    call = orjson.loads(event.call or "{}")
    outgoing = call.get("direction") == "out"
    facts = CallFacts(
        outgoing,
        str(call.get("dialled" if outgoing else "caller_number") or ""),
        "" if outgoing else str(call.get("caller_name") or ""),
        str(call.get("extension") or event.new_extension or ""),
    )
    return Line(event, CALL, kind.removeprefix("call."), facts)


@dataclass(frozen=True, slots=True)
class Day:
    bounds: DayBounds
    shown_end_ms: int
    """Where the bar stops: the day's end, or now for today."""
    segments: list[Segment]
    ticks: list[Tick]
    totals: list[Total]
    history: HistoryPage
    lines: list[Line]
    """``history``'s events, each as what it is."""
    window: tuple[int, int] | None = None
    """The span with activity (whole local hours), when it is worth zooming to."""
    zoomed: bool = False
    """The bar shows ``window`` rather than the whole day."""


class BadCursor(Exception):
    pass


def _cursor(text: str | None) -> int | None:
    """The ``before`` of a history page (None: the first page); BadCursor for a value
    that is no event id."""
    if text is None:
        return None
    value = parse_int(text, 1, INT64_MAX)
    if value is None:
        raise BadCursor(text)
    return value


def _read_day(
    page: PageRequest,
    agent: agent_days.AgentNow,
    bounds: DayBounds,
    before: int | None,
    whole_day: bool = False,
) -> Day:
    engine, org, user_id = page.context.engine, page.org, agent.user_id
    zone = get_timezone(engine, org)
    now = now_ms()
    # Nothing is drawn before the agent existed or after now.
    start = max(bounds.start_ms, agent.created_ms)
    end = min(bounds.end_ms, now)
    found: list[Span] = []
    if end > start:
        initial = agent_days.status_at(engine, org, user_id, start)
        changes = agent_days.changes_between(engine, org, user_id, start, end)
        found = spans(
            agent.status if initial is None else initial,
            [(c.at_ms, c.new_status) for c in changes],
            start,
            end,
        )
    rtl = language(page.language).rtl
    history = read_history(
        engine,
        org,
        user_id=user_id,
        start_ms=bounds.start_ms,
        end_ms=bounds.end_ms,
        before=before,
        newest_first=True,
        limit=PAGE_SIZE,
    )
    # A day of a few hours' work on a 24-hour axis is a grey bar: the bar zooms to the
    # span with activity (unless the whole day is asked for).
    window = activity_window(found, bounds.start_ms, bounds.end_ms, zone, LOGOUT)
    low, high = (bounds.start_ms, bounds.end_ms) if whole_day or window is None else window
    return Day(
        bounds,
        max(end, bounds.start_ms),
        segments(clipped(found, low, high), low, high, rtl=rtl),
        hour_ticks(low, high, zone, rtl=rtl),
        totals(found),
        history,
        [line(e) for e in history.events],
        window,
        (low, high) != (bounds.start_ms, bounds.end_ms),
    )


async def agent_day(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    engine = page.context.engine
    user_id = user_id_of(request.path_params["user_id"])
    if user_id is None:
        return error_page(request, 404, messages.NO_SUCH_AGENT)
    try:
        agent = await asyncio.to_thread(agent_days.agent_now, engine, page.org, user_id)
    except NotFound:
        return error_page(request, 404, messages.NO_SUCH_AGENT)
    zone: ZoneInfo = await asyncio.to_thread(get_timezone, engine, page.org)
    catalogue = await asyncio.to_thread(statuses.list_statuses, engine, page.org)
    now_day = today(zone, now_ms())
    values: dict[str, object] = {
        "agent": agent,
        "zone": zone,
        "by_id": {s.id: s for s in displayed(catalogue, page.language)},
        "logout": LOGOUT,
        "today": now_day.isoformat(),
        "day_text": request.query_params.get("day", ""),
        "error": None,
        "day": None,
        **figures(page.language),
    }
    try:
        chosen = parse_day(request.query_params.get("day"), now_day)
    except BadDay as bad:
        values["error"] = bad.message
        return render(page, "agent_day.html", values, status=400)
    bounds = day_bounds(chosen, zone)
    try:
        before = _cursor(request.query_params.get("before"))
    except BadCursor:
        return error_page(request, 422, messages.BAD_NUMBER)
    whole_day = request.query_params.get("view") == "day"
    day = await asyncio.to_thread(_read_day, page, agent, bounds, before, whole_day)
    values.update(
        day=day,
        day_text=chosen.isoformat(),
        previous=(chosen - timedelta(days=1)).isoformat(),
        next=(chosen + timedelta(days=1)).isoformat(),
        is_today=chosen == now_day,
        is_future=bounds.start_ms > now_ms(),
        paged=before is not None,
        hours=format_decimal(bounds.hours, locale=page.language),
    )
    return render(page, "agent_day.html", values)
