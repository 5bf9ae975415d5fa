"""Administration of agents: the list (active and inactive), adding, renaming,
deactivating (through the change path: the agent is logged out), activating, and a CSV
import where every bad row is reported and nothing is imported then."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.service import agents, validation
from agentstatus.service.errors import AlreadyExists, ImportRejected, NotFound, Unavailable
from agentstatus.web.messages import N_
from agentstatus.web.pages.admin.forms import (
    Form,
    admin_page,
    done,
    failed,
    paginate,
    read_form,
    show,
    uploaded_text,
)
from agentstatus.web.pages.common import PageRequest
from agentstatus.web.pages.confirm import ask_deactivate, is_confirmed

AREA = "agents"
DONE = {
    "added": N_("The agent was added."),
    "renamed": N_("The agent was renamed."),
    "deactivated": N_("The agent was deactivated and logged out."),
    "activated": N_("The agent was activated."),
    "imported": N_("The file was imported."),
}
BAD_USER_ID = N_("A user id is 1 to 128 characters, without spaces.")
TAKEN_USER_ID = N_("An agent with this user id exists already.")
BAD_NAME = N_("A name is at most 256 characters, without control characters.")
NO_AGENT = N_("There is no such agent.")
NOT_APPLIED = N_("The database did not take the change; try again.")
NOT_UTF8 = N_("Choose a CSV file in UTF-8.")


async def _show(page: PageRequest, *forms: Form) -> Response:
    listed = await asyncio.to_thread(agents.list_agents, page.context.engine, page.org)
    found, paging = paginate(page, listed)
    by_name = {f.name: f for f in forms}
    changed = by_name.get("row")
    rows = []
    for number, agent in enumerate(found, 1):
        # Each row's form has its own ids; the one just refused keeps its input and errors.
        form = Form(f"agent-{number}", {"name": agent.name})
        if changed is not None and changed.value("user_id") == agent.user_id:
            form.values, form.errors = changed.values, changed.errors
        rows.append((agent, form))
    values = {
        "rows": rows,
        "paging": paging,
        "add": by_name.get("add") or Form("add"),
        "upload": by_name.get("import") or Form("import"),
        "row": changed,
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def agents_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def add(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "add")
    user_id = form.check(
        "user_id", BAD_USER_ID, lambda: validation.identifier("user id", form.value("user_id"))
    )
    name = form.check("name", BAD_NAME, lambda: validation.display_name(form.value("name")))
    if user_id is None or name is None:
        return await _show(page, form)
    try:
        await asyncio.to_thread(agents.add_agent, page.context.engine, page.org, user_id, name)
    except AlreadyExists as exc:
        form.refuse("user_id", TAKEN_USER_ID, exc)
        return await _show(page, form)
    return done(page, AREA, "added")


@admin_page
async def change(request: Request, page: PageRequest) -> Response:
    """Rename, deactivate or activate one agent (the button pressed says which)."""
    form, _ = await read_form(request, "row")
    engine, org, user_id = page.context.engine, page.org, form.value("user_id")
    action = form.value("action")
    try:
        if action == "rename":
            name = form.check("name", BAD_NAME, lambda: validation.display_name(form.value("name")))
            if name is None:
                return await _show(page, form)
            await asyncio.to_thread(agents.rename_agent, engine, org, user_id, name)
            return done(page, AREA, "renamed")
        asked = None
        if action == "deactivate" and not is_confirmed(form.values):
            asked = await ask_deactivate(page, {"user_id": user_id, "action": action})
        if asked is not None:
            return asked
        if action == "deactivate":
            await agents.deactivate_agent(page.context.changes, engine, org, user_id, page.actor)
            return done(page, AREA, "deactivated")
        if action == "activate":
            await asyncio.to_thread(agents.activate_agent, engine, org, user_id)
            return done(page, AREA, "activated")
    except NotFound as exc:
        form.refuse("form", NO_AGENT, exc)
    except Unavailable as exc:
        form.refuse("form", NOT_APPLIED, exc)
        form.status = 503
    if form.ok:
        form.refuse("form", NO_AGENT)  # no such action: a hand-made request
    return await _show(page, form)


@admin_page
async def import_csv(request: Request, page: PageRequest) -> Response:
    form, data = await read_form(request, "import", files=1)
    text = await uploaded_text(data, "file")
    if text is None:
        form.refuse("file", NOT_UTF8)
        return await _show(page, form)
    try:
        await asyncio.to_thread(agents.import_agents, page.context.engine, page.org, text)
    except ImportRejected as exc:
        form.refuse("file", "", exc)
        return await _show(page, form)
    return done(page, AREA, "imported")
