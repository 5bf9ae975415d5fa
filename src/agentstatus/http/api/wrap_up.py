"""Wrap-up (after-call work) per organisation, and the status an agent queues as next
(SPEC 8): applied when the agent's call and its wrap-up end."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from agentstatus.domain.commands import Source
from agentstatus.domain.wrap_up import DEFAULT_STATUS, MAX_SECONDS, WrapUpMode, WrapUpSetting
from agentstatus.http.api.auth import CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, responses_for
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import next_status, wrap_up
from agentstatus.service.errors import ErrorCode, NotFound
from agentstatus.service.next_status import Queued
from agentstatus.service.presence import agent_presence
from agentstatus.service.tokens import Role, TokenInfo

router = APIRouter(prefix="/orgs/{org}", responses={**AUTH_RESPONSES, **NOT_FOUND})

Mode = Literal["off", "timed", "manual"]


class WrapUpBody(RequestBody):
    mode: Mode = Field(
        description="off: no wrap-up; timed: for `seconds`; manual: until "
        "the agent chooses a status."
    )
    seconds: int | None = Field(
        None, ge=1, le=MAX_SECONDS, description="How long a timed wrap-up lasts (timed only)."
    )
    status: int | None = Field(
        None,
        description=f"The wrap-up status: an enabled status that takes no calls (default "
        f"{DEFAULT_STATUS}, Summary).",
    )


class WrapUpResult(ResponseBody):
    mode: Mode
    seconds: int | None
    status: int


def _result(setting: WrapUpSetting) -> WrapUpResult:
    return WrapUpResult.model_validate(setting.as_json())


@router.get("/wrap-up", tags=["organisations"])
def get_wrap_up(org: OrgAccess, context: Context) -> WrapUpResult:
    """The organisation's wrap-up: what an answered call's end does to its agent."""
    return _result(wrap_up.get_wrap_up(context.engine, org))


@router.put("/wrap-up", tags=["organisations"])
def set_wrap_up(org: OrgAdmin, body: WrapUpBody, context: Context) -> WrapUpResult:
    """When an answered call ends on an agent's extension while the agent takes calls, the
    agent enters the wrap-up status (source pbx, reason wrap-up); timed: back to the status
    held before the call after `seconds` (source system, reason wrap-up-ended)."""
    setting = wrap_up.set_wrap_up(
        context.engine, org, WrapUpMode(body.mode), body.seconds, body.status
    )
    return _result(setting)


class NextStatusBody(RequestBody):
    status: int = Field(description="The status to apply when the call and its wrap-up end.")


class PresenceWithNext(ResponseBody):
    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str | None
    since: str = Field(description="UTC, ISO 8601, to the millisecond.")
    next_status: int | None = Field(description="The status queued as next; null: none.")


def _source(token: TokenInfo) -> Source:
    return Source.ADMIN if token.role is Role.ADMIN else Source.SUPERVISOR


def _presence(context: Context, queued: Queued) -> PresenceWithNext:
    found = agent_presence(context.engine, queued.agent_id)
    if found is None:
        raise NotFound("the agent is gone")
    nxt = next_status.next_status_of(context.engine, queued.agent_id)
    return PresenceWithNext.model_validate({**found.as_json(), "next_status": nxt})


async def _answer(context: Context, queued: Queued) -> PresenceWithNext:
    if queued.history_id is not None:
        # This instance's streams at once (from the loop: the hub's events are not
        # thread-safe); other instances' feeds read it on their next poll.
        context.hub.notify(queued.oid)
    return await asyncio.to_thread(_presence, context, queued)


NOT_ON_CALL = responses_for(ErrorCode.NOT_ON_CALL)


@router.put(
    "/presence/{user_id:path}/next", status_code=202, tags=["presence"], responses=NOT_ON_CALL
)
async def queue_next(
    org: OrgAccess, user_id: str, body: NextStatusBody, context: Context, token: CurrentToken
) -> PresenceWithNext:
    """Queue a status for when the agent's call and its wrap-up end (source admin or
    supervisor, reason next-status), replacing one queued before. Only while the agent is
    on a call or in wrap-up (else 409 `not_on_call`: set the status itself)."""
    queued = await asyncio.to_thread(
        next_status.queue_next,
        context.engine,
        org,
        user_id,
        body.status,
        _source(token),
        token.label or None,
    )
    return await _answer(context, queued)


@router.delete("/presence/{user_id:path}/next", tags=["presence"])
async def clear_next(
    org: OrgAccess, user_id: str, context: Context, token: CurrentToken
) -> PresenceWithNext:
    """Drop the status queued as next (recorded when there was one)."""
    queued = await asyncio.to_thread(
        next_status.clear_next, context.engine, org, user_id, _source(token), token.label or None
    )
    return await _answer(context, queued)
