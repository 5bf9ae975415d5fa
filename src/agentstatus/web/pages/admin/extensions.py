"""Administration of extensions: the list (with the agent logged in at each), adding,
removing (an agent holding it is logged out through the change path) and a CSV import."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.service import extensions, validation
from agentstatus.service.errors import AlreadyExists, ImportRejected, NotFound, Unavailable
from agentstatus.web import questions
from agentstatus.web.messages import N_
from agentstatus.web.pages.admin.forms import (
    Form,
    admin_page,
    area_path,
    done,
    failed,
    paginate,
    read_form,
    show,
    uploaded_text,
)
from agentstatus.web.pages.common import PageRequest
from agentstatus.web.pages.confirm import ask_first

AREA = "extensions"
DONE = {
    "added": N_("The extension was added."),
    "removed": N_("The extension was removed."),
    "imported": N_("The file was imported."),
}
BAD_EXTENSION = N_("An extension is 1 to 128 characters, without spaces.")
TAKEN_EXTENSION = N_("This extension exists already.")
BAD_NAME = N_("A name is at most 256 characters, without control characters.")
NO_EXTENSION = N_("There is no such extension.")
KEPT_TAKEN = N_("Agents keep logging in at this extension; log them out and try again.")
NOT_UTF8 = N_("Choose a CSV file in UTF-8.")


async def _show(page: PageRequest, *forms: Form) -> Response:
    listed = await asyncio.to_thread(extensions.list_extensions, page.context.engine, page.org)
    found, paging = paginate(page, listed)
    by_name = {f.name: f for f in forms}
    values = {
        "extensions": found,
        "paging": paging,
        "add": by_name.get("add") or Form("add"),
        "upload": by_name.get("import") or Form("import"),
        "row": by_name.get("row"),
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def extensions_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def add(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "add")
    sip = form.check(
        "extension",
        BAD_EXTENSION,
        lambda: validation.identifier("extension", form.value("extension")),
    )
    name = form.check("name", BAD_NAME, lambda: validation.display_name(form.value("name")))
    if sip is None or name is None:
        return await _show(page, form)
    try:
        await asyncio.to_thread(extensions.add_extension, page.context.engine, page.org, sip, name)
    except AlreadyExists as exc:
        form.refuse("extension", TAKEN_EXTENSION, exc)
        return await _show(page, form)
    return done(page, AREA, "added")


@admin_page
async def remove(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "row")
    extension = form.value("extension")
    back = area_path(page, AREA)
    asked = ask_first(page, form.values, questions.REMOVE_EXTENSION, back=back, extension=extension)
    if asked is not None:
        return asked
    context = page.context
    try:
        await extensions.remove_extension(
            context.changes, context.engine, page.org, extension, page.actor
        )
    except NotFound as exc:
        form.refuse("form", NO_EXTENSION, exc)
        return await _show(page, form)
    except Unavailable as exc:
        form.refuse("form", KEPT_TAKEN, exc)
        form.status = 503
        return await _show(page, form)
    return done(page, AREA, "removed")


@admin_page
async def import_csv(request: Request, page: PageRequest) -> Response:
    form, data = await read_form(request, "import", files=1)
    text = await uploaded_text(data, "file")
    if text is None:
        form.refuse("file", NOT_UTF8)
        return await _show(page, form)
    try:
        await asyncio.to_thread(extensions.import_extensions, page.context.engine, page.org, text)
    except ImportRejected as exc:
        form.refuse("file", "", exc)
        return await _show(page, form)
    return done(page, AREA, "imported")
