"""Administration of webhooks: endpoints (added with a URL and the events they want; the
signing secret shown once), enabling, disabling and removing one, sending a test, and
the recent deliveries. Only the webhook service's public functions are called."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.domain.integers import INT64_MAX, parse_int
from agentstatus.service import validation, webhooks
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.timezones import get_timezone
from agentstatus.web import questions
from agentstatus.web.messages import N_
from agentstatus.web.pages.admin.forms import (
    Form,
    admin_page,
    area_path,
    done,
    failed,
    read_form,
    show,
)
from agentstatus.web.pages.common import PageRequest, Refused, error_page
from agentstatus.web.pages.confirm import ask, is_confirmed

AREA = "webhooks"
DONE = {
    "enabled": N_("The endpoint was enabled."),
    "disabled": N_("The endpoint was disabled."),
    "removed": N_("The endpoint was removed."),
    "tested": N_("A test event was queued; its delivery is listed below."),
}
BAD_URL = N_("Enter an http:// or https:// URL the server may send to.")
BAD_DESCRIPTION = N_("A description is at most 256 characters, without control characters.")
NO_ENDPOINT = N_("There is no such endpoint.")
NO_SECRET_KEY = N_(
    "Webhooks need the server's secret key (AGENTSTATUS_SECRET_KEY) to keep their secrets."
)
DELIVERIES_SHOWN = 50


def _endpoint_filter(page: PageRequest) -> int | None:
    """The endpoint whose deliveries are shown (None: all); Refused (422) for a value that
    is no endpoint id."""
    value = page.request.query_params.get("endpoint", "")
    if not value:
        return None
    chosen = parse_int(value, 1, INT64_MAX)
    if chosen is None:
        raise Refused(error_page(page.request, 422, NO_ENDPOINT))
    return chosen


async def _show(
    page: PageRequest, *forms: Form, created: webhooks.CreatedEndpoint | None = None
) -> Response:
    engine, org = page.context.engine, page.org
    chosen = _endpoint_filter(page)
    endpoints = await asyncio.to_thread(webhooks.list_endpoints, engine, org)
    deliveries = await asyncio.to_thread(
        lambda: webhooks.list_deliveries(engine, org, endpoint_id=chosen, limit=DELIVERIES_SHOWN)
    )
    by_name = {f.name: f for f in forms}
    values = {
        "endpoints": endpoints,
        "deliveries": deliveries,
        "chosen": chosen,
        "event_types": EVENT_TYPES,
        "add": by_name.get("add") or Form("add"),
        "row": by_name.get("row"),
        "created": created,
        "can_add": page.context.secret_box is not None,
        "zone": await asyncio.to_thread(get_timezone, engine, org),
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def webhooks_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def add(request: Request, page: PageRequest) -> Response:
    form, data = await read_form(request, "add")
    events = [e for e in data.getlist("events") if isinstance(e, str)]
    form.values["events"] = ",".join(events)  # the boxes ticked stay ticked
    description = form.check(
        "description",
        BAD_DESCRIPTION,
        lambda: validation.display_name(form.value("description")),
    )
    unknown = set(events) - set(EVENT_TYPES)
    if unknown:
        form.refuse("events", N_("Choose among the events listed."))
    box = page.context.secret_box
    if box is None:
        form.refuse("form", NO_SECRET_KEY)
        form.status = 503
    if box is None or description is None or not form.ok:
        return await _show(page, form)
    try:
        made = await asyncio.to_thread(
            lambda: webhooks.add_endpoint(
                page.context.engine,
                box,
                page.org,
                form.value("url"),
                events or None,
                outbound=page.context.settings.outbound_policy(),
                description=description,
            )
        )
    except InvalidInput as exc:  # the URL: the other fields were checked above
        form.refuse("url", BAD_URL, exc, detail=True)
        return await _show(page, form)
    # The signing secret is shown once, on this answer (not a redirect; ``no-store``).
    return await _show(page, created=made)


@admin_page
async def change(request: Request, page: PageRequest) -> Response:
    """Enable, disable, remove or test one endpoint (the button pressed says which)."""
    form, _ = await read_form(request, "row")
    engine, org, action = page.context.engine, page.org, form.value("action")
    endpoint_id = parse_int(form.value("endpoint_id"), 1, INT64_MAX)
    if endpoint_id is None:
        form.refuse("form", NO_ENDPOINT)
        return await _show(page, form)
    try:
        if action in ("enable", "disable"):
            enabled = action == "enable"
            await asyncio.to_thread(
                webhooks.set_endpoint_enabled, engine, org, endpoint_id, enabled
            )
            return done(page, AREA, f"{action}d")
        if action == "remove" and not is_confirmed(form.values):
            # Asked only about an endpoint of this organisation.
            listed = await asyncio.to_thread(webhooks.list_endpoints, engine, org)
            if endpoint_id not in {e.id for e in listed}:
                raise NotFound("no such endpoint")
            back = area_path(page, AREA)
            return ask(page, form.values, questions.REMOVE_ENDPOINT, back=back, id=endpoint_id)
        if action == "remove":
            await asyncio.to_thread(webhooks.remove_endpoint, engine, org, endpoint_id)
            return done(page, AREA, "removed")
        if action == "test":
            await asyncio.to_thread(webhooks.enqueue_test, engine, org, endpoint_id)
            page.context.deliverer.wake()
            return done(page, AREA, "tested")
    except NotFound as exc:
        form.refuse("form", NO_ENDPOINT, exc)
        return await _show(page, form)
    form.refuse("form", NO_ENDPOINT)  # no such action: a hand-made request
    return await _show(page, form)
