"""Administration of the web's users: the list, adding one (its generated password is
shown once, on the answer to the form), a new password (shown once), removing one.

An admin of one organisation sees and manages only that organisation's users, and may
only add users to it; an admin of every organisation manages everyone.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.service import passwords, users, validation
from agentstatus.service.errors import AlreadyExists, NotFound
from agentstatus.service.tokens import Role
from agentstatus.service.users import User
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

AREA = "users"
DONE = {"removed": N_("The user was removed and signed out.")}
BAD_EMAIL = N_("Enter an e-mail address like name@example.com.")
TAKEN_EMAIL = N_("A user with this e-mail exists already.")
BAD_NAME = N_("A name is at most 128 characters, without control characters.")
BAD_ROLE = N_("Choose a role.")
BAD_SCOPE = N_("Choose an organisation you manage.")
NO_USER = N_("There is no such user.")
NOT_YOURSELF = N_("You cannot remove yourself.")
EVERY_ORG = ""


def _visible(page: PageRequest, user: User) -> bool:
    mine = page.visitor.user.org
    return mine is None or user.org == mine


def _scopes(page: PageRequest) -> list[str]:
    """The organisations a new user may be given (EVERY_ORG: all of them)."""
    mine = page.visitor.user.org
    return [mine] if mine is not None else [EVERY_ORG, *page.orgs]


async def _show(
    page: PageRequest, *forms: Form, secret: tuple[str, User] | None = None
) -> Response:
    found = await asyncio.to_thread(users.list_users, page.context.engine)
    shown, paging = paginate(page, [u for u in found if _visible(page, u)])
    by_name = {f.name: f for f in forms}
    add = by_name.get("add") or Form("add", {"role": Role.SUPERVISOR.value, "scope": page.org})
    values = {
        "users": shown,
        "paging": paging,
        "add": add,
        "row": by_name.get("row"),
        "roles": list(Role),
        "scopes": _scopes(page),
        "me": page.visitor.user.id,
        "secret": secret,
    }
    return show(page, AREA, values, DONE, failed(*forms))


@admin_page
async def users_page(request: Request, page: PageRequest) -> Response:
    return await _show(page)


@admin_page
async def add(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "add")
    email = form.check("email", BAD_EMAIL, lambda: users.email(form.value("email")))
    name = form.check(
        "name", BAD_NAME, lambda: validation.display_name(form.value("name"), max_length=128)
    )
    role = Role(form.value("role")) if form.value("role") in set(Role) else None
    if role is None:
        form.refuse("role", BAD_ROLE)
    scope = form.value("scope")
    if scope not in _scopes(page):
        form.refuse("scope", BAD_SCOPE)
    if email is None or name is None or role is None or not form.ok:
        return await _show(page, form)
    password = passwords.generate()
    try:
        created = await asyncio.to_thread(
            users.add_user,
            page.context.engine,
            email,
            role,
            password,
            scope or None,
            name,
        )
    except AlreadyExists as exc:
        form.refuse("email", TAKEN_EMAIL, exc)
        return await _show(page, form)
    except NotFound as exc:  # the organisation went away meanwhile
        form.refuse("scope", BAD_SCOPE, exc)
        return await _show(page, form)
    # Shown once, on this answer (not a redirect); the page is sent ``no-store``.
    return await _show(page, secret=(password, created))


async def _target(page: PageRequest, form: Form) -> User | None:
    """The user a row's form names, if this admin may manage it."""
    found = await asyncio.to_thread(users.list_users, page.context.engine)
    address = form.value("email").strip().lower()
    target = next((u for u in found if u.email == address and _visible(page, u)), None)
    if target is None:
        form.refuse("form", NO_USER)
        form.status = 404
    return target


@admin_page
async def new_password(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "row")
    target = await _target(page, form)
    if target is None:
        return await _show(page, form)
    asked = ask_first(
        page, form.values, questions.NEW_PASSWORD, back=area_path(page, AREA), email=target.email
    )
    if asked is not None:
        return asked
    password = passwords.generate()
    await asyncio.to_thread(users.set_password, page.context.engine, target.email, password)
    return await _show(page, secret=(password, target))


@admin_page
async def remove(request: Request, page: PageRequest) -> Response:
    form, _ = await read_form(request, "row")
    target = await _target(page, form)
    if target is not None and target.id == page.visitor.user.id:
        form.refuse("form", NOT_YOURSELF)
    if target is None or not form.ok:
        return await _show(page, form)
    asked = ask_first(
        page, form.values, questions.REMOVE_USER, back=area_path(page, AREA), email=target.email
    )
    if asked is not None:
        return asked
    try:
        await asyncio.to_thread(users.remove_user, page.context.engine, target.email)
    except NotFound as exc:
        form.refuse("form", NO_USER, exc)
        return await _show(page, form)
    return done(page, AREA, "removed")
