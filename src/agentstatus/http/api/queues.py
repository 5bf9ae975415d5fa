"""The phone system's queues (issue 24): the callers waiting in each now and its figures of
today; and a queue's service-level threshold and weight."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from agentstatus.domain.clock import now_ms
from agentstatus.domain.integers import INT32_MAX
from agentstatus.domain.queues import (
    DEFAULT_SERVICE_LEVEL_SECONDS,
    MAX_SERVICE_LEVEL_SECONDS,
)
from agentstatus.http.api.auth import OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND, responses_for
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import queues
from agentstatus.service.errors import ErrorCode

router = APIRouter(
    prefix="/orgs/{org}/queues", tags=["queues"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)

QueueName = Annotated[
    str, Path(min_length=1, max_length=128, description="The queue's name in the phone system.")
]


class WaitingCaller(ResponseBody):
    phone: str = Field(description='The caller\'s number; "" when the phone system hides it.')
    call_id: str = Field(description="The caller's call in the phone system.")
    joined_at: str = Field(description="When it joined the queue: UTC, ISO 8601, to the ms.")
    wait_seconds: int = Field(description="Whole seconds waited so far.")


class QueueDay(ResponseBody):
    """Today's figures, in the organisation's timezone."""

    offered: int = Field(description="Callers who joined.")
    answered: int
    abandoned: int = Field(description="Callers who hung up while waiting.")
    answered_within: int = Field(
        description="Answered within the queue's service-level threshold (as it was then)."
    )
    service_level: float | None = Field(
        description="answered_within / (answered + abandoned), 0 to 1; null before the first."
    )
    average_wait_seconds: float | None = Field(
        description="The answered callers' average wait (speed of answer); null before the first."
    )
    longest_wait_seconds: int = Field(
        description="The longest wait of the callers waiting now (0: nobody waits)."
    )


class Queue(ResponseBody):
    name: str
    id: int = Field(description="The queue's number (GetQueuesCallers' ID).")
    weight: int = Field(description="GetQueuesCallers' Weight.")
    service_level_seconds: int = Field(
        description="Answered within this wait counts in the service level "
        f"(default {DEFAULT_SERVICE_LEVEL_SECONDS})."
    )
    waiting: list[WaitingCaller] = Field(description="The callers waiting, longest first.")
    today: QueueDay


class QueueSettingsBody(RequestBody):
    service_level_seconds: int = Field(
        ge=1,
        le=MAX_SERVICE_LEVEL_SECONDS,
        strict=True,
        description="Answered within this many seconds of waiting counts in the service level.",
    )
    weight: int | None = Field(
        None,
        ge=0,
        le=INT32_MAX,
        strict=True,
        description="GetQueuesCallers' Weight; left as it is when absent.",
    )


class QueueSettingsResult(ResponseBody):
    name: str
    id: int
    weight: int
    service_level_seconds: int


@router.get("")
def list_queues(org: OrgAccess, context: Context) -> list[Queue]:
    """Every queue the phone system has told of (from its first caller), by name: its
    callers waiting now and its figures of today. The same callers as GetQueuesCallers."""
    at = now_ms()
    return [Queue.model_validate(q.as_json(at)) for q in queues.queues_now(context.engine, org, at)]


QUEUE_NOT_FOUND = responses_for(
    ErrorCode.NOT_FOUND, ErrorCode.ORGANISATION_NOT_FOUND, ErrorCode.QUEUE_NOT_FOUND
)


@router.put("/{queue}", responses=QUEUE_NOT_FOUND)
def set_queue(
    org: OrgAdmin, queue: QueueName, body: QueueSettingsBody, context: Context
) -> QueueSettingsResult:
    """Set a queue's service-level threshold (and weight). Only a queue heard of: a name
    no caller has waited in is a 404 `queue_not_found` (queues are the phone system's).
    The threshold counts from the next answered caller."""
    found = queues.set_queue(context.engine, org, queue, body.service_level_seconds, body.weight)
    return QueueSettingsResult.model_validate(found.as_json())
