"""A supervisor puts an agent in any status from the board: ``POST
/o/{org}/agents/{user_id}/status`` with ``status``, ``reason`` and ``extension``, through
the one change path with source ``supervisor`` and the signed-in user's e-mail as actor.

The board's script asks in its menu and its dialog, then sends the form as JSON is
answered (the presence, or ``{"detail", "code"}`` in the reader's language). Without the
script the form comes here unconfirmed and the answer is a page with the same menu, which
posts the choice confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from agentstatus.domain.integers import INT32_MAX, parse_int
from agentstatus.service import statuses
from agentstatus.service.agent_days import agent_now
from agentstatus.service.errors import ErrorCode, NotFound, ServiceError
from agentstatus.service.presence import AgentPresence
from agentstatus.service.set_presence import SupervisorChange, set_presence
from agentstatus.service.validation import MAX_REASON_LENGTH
from agentstatus.storage.types import OperationalError
from agentstatus.web import messages
from agentstatus.web.agent_paths import agent_segment, user_id_of
from agentstatus.web.messages import N_
from agentstatus.web.pages.common import (
    PageRequest,
    Refused,
    error_page,
    page_request,
    pages_of,
    render,
)
from agentstatus.web.pages.confirm import is_confirmed
from agentstatus.web.status_names import displayed

NO_SUCH_STATUS = N_("That status is not one of the organisation's enabled statuses.")
NO_SUCH_EXTENSION = N_("There is no such extension.")
NEEDS_EXTENSION = N_("The agent is logged out: give the extension to put the agent at.")
EXTENSION_TAKEN = N_("Another agent holds that extension.")
BAD_REASON = N_("The reason must be at most 200 characters, without control characters.")
BAD_INPUT = N_("The form was not filled in as the page asks.")

# Each refusal's words on a page, by the stable code the API answers for it.
_WORDS: Mapping[ErrorCode, tuple[int, str]] = {
    ErrorCode.AGENT_NOT_FOUND: (404, messages.NO_SUCH_AGENT),
    ErrorCode.NOT_FOUND: (404, messages.NO_SUCH_AGENT),
    ErrorCode.STATUS_NOT_AVAILABLE: (422, NO_SUCH_STATUS),
    ErrorCode.EXTENSION_NOT_FOUND: (422, NO_SUCH_EXTENSION),
    ErrorCode.EXTENSION_REQUIRED: (422, NEEDS_EXTENSION),
    ErrorCode.EXTENSION_IN_USE: (409, EXTENSION_TAKEN),
    ErrorCode.INVALID_REASON: (422, BAD_REASON),
    ErrorCode.VALIDATION_ERROR: (422, BAD_INPUT),
    ErrorCode.UNAVAILABLE: (503, messages.NOT_APPLIED),
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _ask(form: FormData, user_id: str, actor: str) -> SupervisorChange | None:
    """The change the form asks for; None when its status is not a number."""
    status = parse_int(_text(form, "status") or "", 1, INT32_MAX)
    if status is None:
        return None
    reason = form.get("reason")
    kept = reason if isinstance(reason, str) else None  # validated (and trimmed) by the service
    return SupervisorChange(user_id, status, _text(form, "extension"), kept, actor)


def _refusal(page: PageRequest, code: ErrorCode) -> Response:
    status, message = _WORDS.get(code, (422, BAD_INPUT))
    if not _wants_json(page.request):
        return error_page(page.request, status, message)
    words = pages_of(page.request).gettext(page.language, message)
    return JSONResponse({"detail": words, "code": code.value}, status_code=status)


async def set_agent_status(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    user_id = user_id_of(request.path_params["user_id"])
    if user_id is None:
        return _refusal(page, ErrorCode.AGENT_NOT_FOUND)
    form = await request.form(max_fields=8, max_part_size=4096)
    if not _wants_json(request) and not is_confirmed(form):
        return await ask_status(page, user_id, form)  # asked first, also without the script
    ask = _ask(form, user_id, page.actor)
    if ask is None:
        return _refusal(page, ErrorCode.VALIDATION_ERROR)
    try:
        found = await set_presence(page.context.changes, page.context.engine, page.org, ask)
    except ServiceError as refused:
        return _refusal(page, refused.code)
    except OperationalError:
        return _refusal(page, ErrorCode.UNAVAILABLE)
    return _done(page, found)


def _done(page: PageRequest, found: AgentPresence) -> Response:
    if _wants_json(page.request):
        return JSONResponse(found.as_json())
    return RedirectResponse(f"/o/{page.org}/", status_code=303)


async def ask_status(page: PageRequest, user_id: str, form: FormData) -> Response:
    """The menu as a page: the agent named, the enabled statuses, the reason, the
    extension (for an agent logged out), and the button that confirms."""
    engine = page.context.engine
    try:
        agent = await asyncio.to_thread(agent_now, engine, page.org, user_id)
    except NotFound:
        return error_page(page.request, 404, messages.NO_SUCH_AGENT)
    found = await asyncio.to_thread(statuses.list_statuses, engine, page.org)
    return render(
        page,
        "set_status.html",
        {
            "name": agent.name or user_id,
            "user_id": user_id,
            "action": f"/o/{page.org}/agents/{agent_segment(user_id)}/status",
            "statuses": [s for s in displayed(found, page.language) if s.enabled],
            "chosen": _text(form, "status") or "",
            "extension": _text(form, "extension") or agent.extension or "",
            "max_reason": MAX_REASON_LENGTH,
        },
    )
