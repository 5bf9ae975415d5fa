"""Reports: the time each agent spent in each status over a range of whole days of the
organisation's time zone, as a chart and a table, and as the CSV of the API's report
(``GET /api/v1/orgs/{org}/reports/time-in-status?format=csv``), for the session; and the
agents' calls over the same days (``web.pages.report_calls``), with the CSV of
``GET /api/v1/orgs/{org}/reports/calls?format=csv``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.clock import now_ms
from agentstatus.service import call_reports, reports, statuses
from agentstatus.service.call_reports import CallsRow
from agentstatus.service.errors import InvalidInput
from agentstatus.service.reports import TimeInStatus
from agentstatus.service.timezones import get_timezone
from agentstatus.web.days import BadDay, parse_day, range_bounds, today
from agentstatus.web.i18n import language
from agentstatus.web.messages import N_
from agentstatus.web.pages.common import PageRequest, Refused, page_request, render
from agentstatus.web.pages.figures import figures
from agentstatus.web.pages.paging import paginate
from agentstatus.web.pages.report_calls import calls_values
from agentstatus.web.stacked_bars import chart
from agentstatus.web.status_names import displayed

DAY_MS = 24 * 3600 * 1000
# One day fewer than the service allows: a range of whole days may be an hour longer
# than its days when the clocks go back in it.
MAX_DAYS = reports.MAX_RANGE_MS // DAY_MS - 1
FROM_AFTER_TO = N_("The first day must not be after the last.")
TOO_LONG = N_("A report covers at most %(days)s days.")


@dataclass
class RangeForm:
    from_text: str
    to_text: str
    first: date | None = None
    last: date | None = None
    errors: dict[str, str] = field(default_factory=dict)
    """Field name (``from``, ``to``) to the message shown beside it."""


def read_range(query: Mapping[str, str], zone: ZoneInfo) -> RangeForm:
    """The form's days (default: today), or the errors to show beside the fields."""
    now_day = today(zone, now_ms())
    form = RangeForm(query.get("from", ""), query.get("to", ""))
    for name in ("from", "to"):
        try:
            chosen = parse_day(query.get(name), now_day)
        except BadDay as bad:
            form.errors[name] = bad.message
            continue
        if name == "from":
            form.first, form.from_text = chosen, chosen.isoformat()
        else:
            form.last, form.to_text = chosen, chosen.isoformat()
    if form.first is not None and form.last is not None:
        if form.first > form.last:
            form.errors["to"] = FROM_AFTER_TO
        elif (form.last - form.first).days + 1 > MAX_DAYS:
            form.errors["to"] = TOO_LONG
    return form


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: str
    name: str
    seconds: dict[int, float]
    total: float
    over: float = 0.0
    """Of ``total``, the time past the statuses' limits."""


def _rows(found: list[TimeInStatus]) -> list[AgentRow]:
    """One row per agent, in the report's order (by user id)."""
    per: dict[str, AgentRow] = {}
    over: dict[str, float] = {}
    for r in found:
        row = per.setdefault(r.user_id, AgentRow(r.user_id, r.name, {}, 0.0))
        row.seconds[r.status] = row.seconds.get(r.status, 0.0) + r.seconds
        over[r.user_id] = over.get(r.user_id, 0.0) + r.over_limit_seconds
    return [
        AgentRow(a.user_id, a.name, a.seconds, sum(a.seconds.values()), over[a.user_id])
        for a in per.values()
    ]


def _report(page: PageRequest, form: RangeForm, zone: ZoneInfo) -> list[TimeInStatus] | None:
    """The report of the form's range; None (with the error on ``to``) when refused."""
    if form.first is None or form.last is None:
        return None
    start, end = range_bounds(form.first, form.last, zone)
    if start >= now_ms():
        return []
    try:
        return reports.time_in_status(page.context.engine, page.org, start, end)
    except InvalidInput:
        form.errors["to"] = TOO_LONG
        return None


def _calls(page: PageRequest, form: RangeForm, zone: ZoneInfo) -> list[CallsRow]:
    """The calls of the form's range (a range ``_report`` accepted)."""
    if form.first is None or form.last is None:
        return []
    start, end = range_bounds(form.first, form.last, zone)
    if start >= now_ms():
        return []
    return call_reports.calls_report(page.context.engine, page.org, start, end)


REPORT_PAGE = 200


async def _form_of(request: Request) -> tuple[PageRequest, ZoneInfo, RangeForm]:
    page = await page_request(request, request.path_params["org"])
    zone = await asyncio.to_thread(get_timezone, page.context.engine, page.org)
    return page, zone, read_range(request.query_params, zone)


def _page(
    page: PageRequest,
    zone: ZoneInfo,
    form: RangeForm,
    found: list[TimeInStatus] | None,
    calls: list[CallsRow] | None = None,
) -> Response:
    values: dict[str, object] = {
        "form": form,
        "zone": zone,
        "max_days": MAX_DAYS,
        "report": None,
        **figures(page.language),
    }
    if form.errors or found is None:
        return render(page, "reports.html", values, status=400)
    catalogue = statuses.list_statuses(page.context.engine, page.org)
    everyone = _rows(found)
    # The table and the chart show a page of agents (a year of a 50,000-agent organisation
    # was 42.8 MB of HTML); the totals are of everyone, and the CSV has every row.
    try:
        rows, paging = paginate(page, everyone, REPORT_PAGE)
    except Refused as refused:
        return refused.response
    present = {sid for row in everyone for sid in row.seconds}
    order = [s.id for s in catalogue if s.id in present]
    order += sorted(present - set(order))
    values.update(
        report=rows,
        columns=order,
        by_id={s.id: s for s in displayed(catalogue, page.language)},
        paging=paging,
        column_totals={sid: sum(r.seconds.get(sid, 0.0) for r in everyone) for sid in order},
        grand_total=sum(r.total for r in everyone),
        with_limits=any(s.limit_seconds is not None for s in catalogue),
        over_total=sum(r.over for r in everyone),
        chart=chart(
            [
                (r.name or r.user_id, [(sid, r.seconds[sid]) for sid in order if sid in r.seconds])
                for r in rows
            ],
            rtl=language(page.language).rtl,
        ),
        **calls_values(calls or [], [r.user_id for r in rows], rtl=language(page.language).rtl),
    )
    return render(page, "reports.html", values)


async def reports_page(request: Request) -> Response:
    try:
        page, zone, form = await _form_of(request)
    except Refused as refused:
        return refused.response
    found = None if form.errors else await asyncio.to_thread(_report, page, form, zone)
    calls = None if found is None else await asyncio.to_thread(_calls, page, form, zone)
    return await asyncio.to_thread(_page, page, zone, form, found, calls)


def _download(page: PageRequest, form: RangeForm, what: str, body: str) -> Response:
    # Organisation names are [A-Za-z0-9_-] and the days ISO dates: a safe file name.
    days = form.from_text if form.from_text == form.to_text else f"{form.from_text}_{form.to_text}"
    name = f"agentstatus-{page.org}-{what}{days}.csv"
    return Response(
        body,
        media_type="text/csv",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def reports_csv(request: Request) -> Response:
    """The API's CSV of the same range, as a file to keep."""
    try:
        page, zone, form = await _form_of(request)
    except Refused as refused:
        return refused.response
    found = None if form.errors else await asyncio.to_thread(_report, page, form, zone)
    if found is None:
        return await asyncio.to_thread(_page, page, zone, form, None)
    return _download(page, form, "", reports.as_csv(found))


async def calls_csv(request: Request) -> Response:
    """The API's calls CSV (a row per agent and day) of the same range, as a file."""
    try:
        page, zone, form = await _form_of(request)
    except Refused as refused:
        return refused.response
    found = None if form.errors else await asyncio.to_thread(_report, page, form, zone)
    if found is None:
        return await asyncio.to_thread(_page, page, zone, form, None)
    calls = await asyncio.to_thread(_calls, page, form, zone)
    return _download(page, form, "calls-", call_reports.calls_csv(calls))
