"""The organisation's settings: the address allow-list of the wire requests, the origins
that may embed the agent's panel, the links to its wall (a new one's address shown once),
the time zone of its pages and reports, and rotating its Code (a generated one, shown
once)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from babel.dates import format_timedelta
from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.integers import parse_int
from agentstatus.domain.pbx_config import PbxConfig, PbxConfigError, make_config
from agentstatus.domain.policies import WEEKDAYS
from agentstatus.service import (
    embed_origins,
    organisations,
    pbx_settings,
    policies,
    timezones,
    wall_links,
)
from agentstatus.service.errors import InvalidInput, NotFound
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
from agentstatus.web.pages.common import PageRequest
from agentstatus.web.pages.confirm import ask, ask_first, is_confirmed

AREA = "settings"
DONE = {
    "allowlist": N_("The allow-list was saved."),
    "timezone": N_("The time zone was saved."),
    "embed": N_("The embed origins were saved."),
    "shift": N_("The end of the shift was saved."),
    "pbx": N_("The phone system was saved; the service connects within a few seconds."),
    "pbx-off": N_("The phone system was turned off."),
    "wall-revoked": N_("The wall link was revoked."),
    "walls-revoked": N_("Every wall link was revoked."),
}
BAD_PBX = N_("Check the phone system's settings.")
SECRET_AGAIN = N_(
    "The kind, host or port changed: enter the secret again. The stored secret is sent only "
    "to the phone system it was given for."
)
PBX_KINDS = (("asterisk", "Asterisk (AMI)"), ("freeswitch", "FreeSWITCH (event socket)"))
PBX_FIELDS = ("interface", "state_interface", "agent", "contact")
BAD_SHIFT = N_("Enter the time as HH:MM and choose at least one day, or leave the time empty.")
DAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
BAD_ORIGIN = N_("Enter origins like https://crm.example.com, one a line.")
BAD_ALLOWLIST = N_("Enter addresses or networks like 192.0.2.10 or 10.0.0.0/8, one a line.")
BAD_ZONE = N_("Choose a time zone from the list.")
ENTRY_SEPARATORS = re.compile(r"[\s,]+")
BAD_WALL_LABEL = N_("A label is at most 128 characters, without control characters.")
BAD_WALL_DAYS = N_("Choose how long the link lasts.")
NO_WALL_LINK = N_("There is no such wall link.")
WALL_DAYS = (1, 7, 30, 90, 365)
"""How long a wall link made on the page lasts, in days (the first is the default's)."""
DEFAULT_WALL_DAYS = "30"


def ago(seconds: float, code: str) -> str:
    return format_timedelta(max(int(seconds), 1), add_direction=True, locale=code)


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


def _allowlist(page: PageRequest) -> list[str] | None:
    found = organisations.list_organisations(page.context.engine)
    return next((o.allowlist for o in found if o.name == page.org), None)


@dataclass(frozen=True, slots=True)
class NewWallLink:
    """A wall link just made: its address (with the token) is on this answer only."""

    link: wall_links.WallLink
    url: str


async def _show(
    page: PageRequest,
    *forms: Form,
    code: str | None = None,
    new_wall_link: NewWallLink | None = None,
) -> Response:
    engine = page.context.engine
    by_name = {f.name: f for f in forms}
    allowlist = by_name.get("allowlist")
    if allowlist is None:
        current = await asyncio.to_thread(_allowlist, page)
        allowlist = Form("allowlist", {"entries": "\n".join(current or [])})
    zone = by_name.get("timezone")
    if zone is None:
        current_zone = await asyncio.to_thread(timezones.get_timezone, engine, page.org)
        zone = Form("timezone", {"zone": current_zone.key})
    embed = by_name.get("embed")
    origins = await asyncio.to_thread(embed_origins.embed_origins, engine, page.org)
    if embed is None:
        embed = Form("embed", {"origins": "\n".join(origins)})
    # Refused lately (by a frame or a script of a site not on the list), newest first.
    refused = getattr(page.request.app.state, "refused_origins", None)
    refused_now = [r for r in (refused.of(page.org) if refused else []) if r.origin not in origins]
    shift = by_name.get("shift")
    if shift is None:
        setting = await asyncio.to_thread(policies.get_shift_end, engine, page.org)
        days = setting.shift.day_names if setting.shift else list(WEEKDAYS)
        shift = Form(
            "shift",
            {"time": setting.shift.time if setting.shift else "", **dict.fromkeys(days, "on")},
        )
    pbx = by_name.get("pbx")
    state = await asyncio.to_thread(pbx_settings.pbx_state, engine, page.org)
    if pbx is None:
        shown = state.as_json() if state is not None else {"kind": "asterisk"}
        pbx = Form(
            "pbx",
            {
                k: "" if shown.get(k) is None else str(shown.get(k))
                for k in ("kind", "host", "port", "username", *PBX_FIELDS)
            }
            | {"queues": "\n".join(state.config.queues) if state else ""},
        )
    wall = by_name.get("wall") or Form("wall", {"days": DEFAULT_WALL_DAYS})
    walls = await asyncio.to_thread(wall_links.list_links, engine, page.org)
    values = {
        "wall": wall,
        "walls": walls,
        "walls_form": by_name.get("walls") or Form("walls"),
        "wall_days": WALL_DAYS,
        "new_wall_link": new_wall_link,
        "zone": await asyncio.to_thread(timezones.get_timezone, engine, page.org),
        "pbx": pbx,
        "pbx_state": state.as_json() if state is not None else None,
        "pbx_kinds": PBX_KINDS,
        "shift": shift,
        "weekdays": list(zip(WEEKDAYS, DAY_NAMES, strict=True)),
        "allowlist": allowlist,
        "embed": embed,
        "embed_listed": origins,
        "refused_origins": [(r, ago(time.time() - r.at, page.language)) for r in refused_now],
        "timezone": zone,
        "zones": zone_names(),
        "code": code,
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def settings_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def save_allowlist(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "allowlist")
    engine, org = page.context.engine, page.org
    entries = [e for e in ENTRY_SEPARATORS.split(form.value("entries")) if e]
    await asyncio.to_thread(
        form.check,
        "entries",
        BAD_ALLOWLIST,
        lambda: organisations.set_allowlist(engine, org, entries or None),
        detail=True,
    )
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "allowlist")


@admin_page
async def save_embed_origins(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "embed")
    engine, org = page.context.engine, page.org
    origins = [e for e in ENTRY_SEPARATORS.split(form.value("origins")) if e]
    await asyncio.to_thread(
        form.check,
        "origins",
        BAD_ORIGIN,
        lambda: embed_origins.set_embed_origins(engine, org, origins),
        detail=True,
    )
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "embed")


@admin_page
async def save_shift_end(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "shift")
    engine, org = page.context.engine, page.org
    time = form.value("time").strip() or None
    days = ",".join(d for d in WEEKDAYS if form.checked(d))
    await asyncio.to_thread(
        form.check,
        "time",
        BAD_SHIFT,
        lambda: policies.set_shift_end(engine, org, time, (days or "none") if time else None),
        detail=True,
    )
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "shift")


def _pbx_config(form: Form) -> PbxConfig:
    text = form.value("port").strip()
    port = parse_int(text, 1, 65535) if text else None
    if text and port is None:
        raise InvalidInput("port must be a number from 1 to 65535")
    try:
        return make_config(
            form.value("kind"),
            form.value("host"),
            port=port,
            queues=[q for q in ENTRY_SEPARATORS.split(form.value("queues")) if q],
            username=form.value("username").strip() or None,
            **{k: form.value(k).strip() or None for k in PBX_FIELDS},
        )
    except PbxConfigError as exc:
        raise InvalidInput(str(exc)) from None


@admin_page
async def save_pbx(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "pbx")
    context, org = page.context, page.org
    secret = form.values.pop("secret", "") or None  # never shown back

    def save() -> None:
        if context.secret_box is None:
            raise InvalidInput("the phone system's secret needs AGENTSTATUS_SECRET_KEY")
        try:
            pbx_settings.set_pbx(
                context.engine,
                context.secret_box,
                org,
                _pbx_config(form),
                secret,
                outbound=context.settings.outbound_policy(),
            )
        except pbx_settings.SecretNeeded:
            form.refuse("secret", SECRET_AGAIN)

    await asyncio.to_thread(form.check, "host", BAD_PBX, save, detail=True)
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "pbx")


@admin_page
async def pbx_off(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "pbx")
    engine, org = page.context.engine, page.org
    await asyncio.to_thread(
        form.check, "host", BAD_PBX, lambda: pbx_settings.remove_pbx(engine, org), detail=True
    )
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "pbx-off")


@admin_page
async def save_timezone(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "timezone")
    engine, org, name = page.context.engine, page.org, form.value("zone")
    await asyncio.to_thread(
        form.check, "zone", BAD_ZONE, lambda: timezones.set_timezone(engine, org, name)
    )
    if not form.ok:
        return await _show(page, form)
    return done(page, AREA, "timezone")


@admin_page
async def rotate_code(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "code")
    asked = ask_first(
        page, form.values, questions.NEW_CODE, back=area_path(page, AREA), org=page.org
    )
    if asked is not None:
        return asked
    # Always a generated Code: it is shown once, on this answer (no redirect, no-store).
    rotated = await asyncio.to_thread(organisations.rotate_code, page.context.engine, page.org)
    return await _show(page, code=rotated.code)


@admin_page
async def make_wall_link(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "wall")
    context, org = page.context, page.org
    days = form.value("days")
    if days not in {str(d) for d in WALL_DAYS}:
        form.refuse("days", BAD_WALL_DAYS)
        return await _show(page, form)
    made = await asyncio.to_thread(
        form.check,
        "label",
        BAD_WALL_LABEL,
        lambda: wall_links.create_link(
            context.engine, org, form.value("label"), int(days) * 86400, page.actor
        ),
    )
    if made is None:
        return await _show(page, form)
    # Shown once, on this answer (not a redirect); the page is sent ``no-store``.
    url = wall_links.wall_url(context.base_url(request), org, made.token)
    return await _show(page, new_wall_link=NewWallLink(made.link, url))


@admin_page
async def revoke_wall_links(request: Request, page: PageRequest) -> Response:
    """One link (``link_id``), or every link of the organisation (``every``)."""
    form, _ = await read_form(request, "walls")
    engine, org, actor = page.context.engine, page.org, page.actor
    back = area_path(page, AREA)
    if form.value("every"):
        asked = ask_first(page, form.values, questions.REVOKE_WALL_LINKS, back=back, org=org)
        if asked is not None:
            return asked
        await asyncio.to_thread(wall_links.revoke_all, engine, org, actor)
        return done(page, AREA, "walls-revoked")
    link_id = parse_int(form.value("link_id"), 1)
    if link_id is None:  # no number of a link: 422, as every page answers a bad number
        form.refuse("form", NO_WALL_LINK)
        return await _show(page, form)
    try:
        if not is_confirmed(form.values):  # ask only about a link of this organisation
            listed = await asyncio.to_thread(wall_links.list_links, engine, org)
            if link_id not in {k.id for k in listed}:
                raise NotFound("no such wall link")
            return ask(page, form.values, questions.REVOKE_WALL_LINK, back=back, id=link_id)
        await asyncio.to_thread(wall_links.revoke_link, engine, org, link_id, actor)
    except NotFound as exc:
        form.refuse("form", NO_WALL_LINK, exc)
        return await _show(page, form)
    return done(page, AREA, "wall-revoked")
