"""Administration of the API's bearer tokens: the list, a new token (shown once, on the
answer to the form), revoking one. Scoped like the users: an admin of one organisation
sees and makes only that organisation's tokens."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.service import tokens, validation
from agentstatus.service.errors import NotFound
from agentstatus.service.tokens import Role, TokenInfo
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
)
from agentstatus.web.pages.common import PageRequest
from agentstatus.web.pages.confirm import ask_first

AREA = "tokens"
DONE = {"revoked": N_("The token was revoked.")}
BAD_LABEL = N_("A label is at most 128 characters, without control characters.")
BAD_ROLE = N_("Choose a role.")
BAD_SCOPE = N_("Choose an organisation you manage.")
NO_TOKEN = N_("There is no such token.")
EVERY_ORG = ""


def _visible(page: PageRequest, token: TokenInfo) -> bool:
    mine = page.visitor.user.org
    return mine is None or token.org == mine


def _scopes(page: PageRequest) -> list[str]:
    mine = page.visitor.user.org
    return [mine] if mine is not None else [EVERY_ORG, *page.orgs]


async def _show(
    page: PageRequest, *forms: Form, created: tokens.CreatedToken | None = None
) -> Response:
    found = await asyncio.to_thread(tokens.list_tokens, page.context.engine)
    shown, paging = paginate(page, [t for t in found if _visible(page, t)])
    by_name = {f.name: f for f in forms}
    add = by_name.get("add") or Form("add", {"role": Role.SUPERVISOR.value, "scope": page.org})
    values = {
        "tokens": shown,
        "paging": paging,
        "add": add,
        "row": by_name.get("row"),
        "scopes": _scopes(page),
        "created": created,
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def tokens_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def create(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "add")
    label = form.check(
        "label", BAD_LABEL, lambda: validation.display_name(form.value("label"), max_length=128)
    )
    role = Role(form.value("role")) if form.value("role") in set(Role) else None
    if role is None:
        form.refuse("role", BAD_ROLE)
    scope = form.value("scope")
    if scope not in _scopes(page):
        form.refuse("scope", BAD_SCOPE)
    if label is None or role is None or not form.ok:
        return await _show(page, form)
    try:
        made = await asyncio.to_thread(
            tokens.create_token, page.context.engine, role, scope or None, label
        )
    except NotFound as exc:
        form.refuse("scope", BAD_SCOPE, exc)
        return await _show(page, form)
    # Shown once, on this answer (not a redirect); the page is sent ``no-store``.
    return await _show(page, created=made)


@admin_page
async def revoke(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "row")
    found = await asyncio.to_thread(tokens.list_tokens, page.context.engine)
    target = next(
        (t for t in found if str(t.id) == form.value("token_id") and _visible(page, t)), None
    )
    try:
        if target is None:
            raise NotFound("no such token")
        asked = ask_first(
            page, form.values, questions.REVOKE_TOKEN, back=area_path(page, AREA), id=target.id
        )
        if asked is not None:
            return asked
        await asyncio.to_thread(tokens.revoke_token, page.context.engine, target.id)
    except NotFound as exc:
        form.refuse("form", NO_TOKEN, exc)
        return await _show(page, form)
    return done(page, AREA, "revoked")
