"""Asking first: a form that changes an agent, or that is hard to take back (a removal, a
revocation, a new Code or password), is carried out only with ``confirmed=yes``. The
pages' script asks in a dialog naming what changes and adds the field; without the
script (or on a click before it ran) the server answers the form with this page, which
asks the same question (``web.questions``) and posts the same fields again, confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.responses import Response

from agentstatus.service.agent_days import agent_now
from agentstatus.service.errors import NotFound
from agentstatus.web import messages, questions
from agentstatus.web.agent_paths import agent_segment
from agentstatus.web.pages.common import PageRequest, error_page, pages_of, render
from agentstatus.web.questions import Question

FIELD = "confirmed"


def is_confirmed(form: FormData | Mapping[str, object]) -> bool:
    return form.get(FIELD) == "yes"


def confirmation_page(
    page: PageRequest,
    *,
    question: str,
    action: str,
    button: str,
    fields: Mapping[str, str],
    back: str,
) -> Response:
    """The question (already translated), and a form posting ``fields`` to ``action``
    with the confirmation; "Cancel" goes to ``back``."""
    return render(
        page,
        "confirm.html",
        {
            "question": question,
            "action": action,
            "button": button,
            "fields": {k: v for k, v in fields.items() if k != FIELD},
            "back": back,
        },
    )


def _say(page: PageRequest, message: str, **values: object) -> str:
    return pages_of(page.request).gettext(page.language, message) % values


def ask(
    page: PageRequest, fields: Mapping[str, str], question: Question, *, back: str, **values: object
) -> Response:
    """The page asking ``question`` (with ``values``), whose form posts ``fields`` again
    to this address, confirmed."""
    return confirmation_page(
        page,
        question=_say(page, question.text, **values),
        action=page.request.url.path,
        button=_say(page, question.button),
        fields=fields,
        back=back,
    )


def ask_first(
    page: PageRequest, fields: Mapping[str, str], question: Question, *, back: str, **values: object
) -> Response | None:
    """None when the form came confirmed (carry it out); otherwise ``ask``'s page."""
    return None if is_confirmed(fields) else ask(page, fields, question, back=back, **values)


async def agent_name(page: PageRequest, user_id: str) -> str | None:
    """The agent's name as a page shows it; None when there is no such agent."""
    try:
        found = await asyncio.to_thread(agent_now, page.context.engine, page.org, user_id)
    except NotFound:
        return None
    return found.name or user_id


async def ask_logout(page: PageRequest, user_id: str) -> Response:
    name = await agent_name(page, user_id)
    if name is None:
        return error_page(page.request, 404, messages.NO_SUCH_AGENT)
    return confirmation_page(
        page,
        question=_say(page, questions.LOG_OUT.text, name=name, user_id=user_id),
        action=f"/o/{page.org}/agents/{agent_segment(user_id)}/logout",
        button=_say(page, questions.LOG_OUT.button),
        fields={},
        back=f"/o/{page.org}/",
    )


def ask_logout_all(page: PageRequest) -> Response:
    return confirmation_page(
        page,
        question=_say(page, questions.LOG_OUT_ALL.text, org=page.org),
        action=f"/o/{page.org}/logout-all",
        button=_say(page, questions.LOG_OUT_ALL.button),
        fields={},
        back=f"/o/{page.org}/",
    )


async def ask_deactivate(page: PageRequest, fields: Mapping[str, str]) -> Response | None:
    """The question, or None when there is no such agent (the form's own answer says so)."""
    user_id = fields.get("user_id", "")
    name = await agent_name(page, user_id)
    if name is None:
        return None
    return confirmation_page(
        page,
        question=_say(page, questions.DEACTIVATE.text, name=name, user_id=user_id),
        action=f"/o/{page.org}/admin/agents/change",
        button=_say(page, questions.DEACTIVATE.button),
        fields=fields,
        back=f"/o/{page.org}/admin/agents",
    )
