"""The panel's wrap-up (SPEC 8): what it is (``GET …/api/wrapup``) and its Ready button
(``POST …/api/ready``: back to the status held before the call, or to the one queued as
next)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.commands import Source
from agentstatus.service import wrap_up
from agentstatus.service.after_call import after_call
from agentstatus.web.panel import texts
from agentstatus.web.panel.api import Refusal, answers, grant_of, json_answer, presence_json
from agentstatus.web.visitors import context_of
from agentstatus.wire.outcomes import Row


@answers
async def read(request: Request) -> Response:
    grant = await grant_of(request)
    engine = context_of(request).engine
    found = await asyncio.to_thread(after_call, engine, grant.org_id, grant.agent_id)
    return json_answer(found.as_json())


@answers
async def ready(request: Request) -> Response:
    """End the wrap-up now (source ``panel``); nothing when it has ended already."""
    grant = await grant_of(request)
    context = context_of(request)
    found = await asyncio.to_thread(wrap_up.in_wrap_up, context.engine, grant.org_id, grant.user_id)
    if found is not None:
        result = await wrap_up.end_wrap_up(context.changes, grant.org_id, found, Source.PANEL)
        if result.row is Row.UPDATE_FAILED:
            raise Refusal(503, "not_saved", texts.NOT_SAVED)
    after = await asyncio.to_thread(after_call, context.engine, grant.org_id, grant.agent_id)
    return json_answer(
        {"presence": await presence_json(context.engine, grant), "after_call": after.as_json()}
    )
