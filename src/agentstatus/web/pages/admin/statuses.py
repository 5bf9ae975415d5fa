"""Administration of the status catalogue: each status's name, colour (``<input
type=color>``), whether it takes calls, whether it is enabled and its limit (a duration and
what happens then); adding a status."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.catalogue import BUILT_IN, LOGOUT
from agentstatus.domain.durations import parse_duration, written
from agentstatus.domain.integers import parse_int
from agentstatus.domain.policies import Limit, LimitAction, check_limit
from agentstatus.service import policies, statuses, validation
from agentstatus.service.errors import AlreadyExists, InvalidInput, NotFound
from agentstatus.web.messages import N_
from agentstatus.web.pages.admin.forms import Form, admin_page, done, failed, read_form, show
from agentstatus.web.pages.common import PageRequest
from agentstatus.web.status_names import displayed

AREA = "statuses"
DONE = {"added": N_("The status was added."), "saved": N_("The status was saved.")}
BAD_ID = N_("A status id is a whole number from 1 to 2147483647.")
TAKEN_ID = N_("A status with this id exists already.")
BAD_NAME = N_("A status needs a name of at most 128 characters.")
BAD_COLOR = N_("Choose a colour as #RRGGBB.")
CANNOT_DISABLE = N_("This status is built in and cannot be disabled.")
BAD_LIMIT = N_(
    "Write the limit as a duration such as 90s, 15m or 1h (at most 7 days), or leave it empty."
)
NO_STATUS = N_("There is no such status.")


def _status_id(value: str) -> int:
    number = parse_int(value.strip(), 1, validation.MAX_STATUS_ID)
    if number is None:
        raise InvalidInput("not a number")
    return number


def _name(value: str) -> str:
    name = validation.display_name(value, max_length=128)
    if not name:
        raise InvalidInput("empty")
    return name


def _limit(sid: int | None, form: Form) -> Limit | None:
    """The form's limit, None for none (InvalidInput for one that cannot be set)."""
    text = form.value("limit").strip()
    if not text or sid is None or sid == LOGOUT:
        return None
    try:
        seconds = parse_duration(text)
        check_limit(sid, seconds)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return policies.parse_limit(seconds, form.value("then"))


async def _show(page: PageRequest, *forms: Form) -> Response:
    found = await asyncio.to_thread(statuses.list_statuses, page.context.engine, page.org)
    by_name = {f.name: f for f in forms}
    edited = by_name.get("edit")
    rows = []
    for s in found:
        form = Form(
            f"status-{s.id}",
            {
                "name": s.name,
                "color": s.color,
                "available": "on" if s.available else "",
                "enabled": "on" if s.enabled else "",
                "limit": "" if s.limit_seconds is None else written(s.limit_seconds),
                "then": s.limit_action or LimitAction.WARN.value,
            },
        )
        if edited is not None and edited.value("status_id") == str(s.id):
            form.values, form.errors = edited.values, edited.errors
        # The card's title in the reader's language; the form edits the stored name.
        rows.append((displayed([s], page.language)[0], form))
    add = by_name.get("add") or Form("add", {"color": statuses.DEFAULT_NEW_COLOR})
    values = {"rows": rows, "add": add, "edited": edited}
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def statuses_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def add(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "add")
    sid = form.check("status_id", BAD_ID, lambda: _status_id(form.value("status_id")))
    name = form.check("name", BAD_NAME, lambda: _name(form.value("name")))
    color = form.check("color", BAD_COLOR, lambda: validation.color(form.value("color")))
    if sid is None or name is None or color is None:
        return await _show(page, form)
    try:
        await asyncio.to_thread(
            lambda: statuses.add_status(
                page.context.engine,
                page.org,
                sid,
                name,
                color=color,
                available=form.checked("available"),
            )
        )
    except AlreadyExists as exc:
        form.refuse("status_id", TAKEN_ID, exc)
        return await _show(page, form)
    return done(page, AREA, "added")


@admin_page
async def edit(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "edit")
    sid = form.check("form", NO_STATUS, lambda: _status_id(form.value("status_id")))
    name = form.check("name", BAD_NAME, lambda: _name(form.value("name")))
    color = form.check("color", BAD_COLOR, lambda: validation.color(form.value("color")))
    enabled = form.checked("enabled")
    if not enabled and sid in BUILT_IN:
        form.refuse("enabled", CANNOT_DISABLE)
    limit = form.check("limit", BAD_LIMIT, lambda: _limit(sid, form))
    if sid is None or not form.ok:
        return await _show(page, form)
    try:
        await asyncio.to_thread(
            lambda: statuses.update_status(
                page.context.engine,
                page.org,
                sid,
                name=name,
                color=color,
                available=form.checked("available"),
                enabled=enabled,
            )
        )
        if sid != LOGOUT:
            await asyncio.to_thread(policies.set_limit, page.context.engine, page.org, sid, limit)
    except NotFound as exc:
        form.refuse("form", NO_STATUS, exc)
        return await _show(page, form)
    return done(page, AREA, "saved")
