"""Webhook endpoints of an organisation (admin), their deliveries, and test events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.http.api.auth import CurrentToken, OrgAccess, OrgAdmin
from agentstatus.http.api.dependencies import Context, WebhookSecretBox
from agentstatus.http.api.errors import AUTH_RESPONSES, NO_SECRET_KEY, NOT_FOUND
from agentstatus.http.api.integers import EndpointFilter, EndpointId, whole
from agentstatus.http.api.models import RequestBody, ResponseBody
from agentstatus.service import webhooks
from agentstatus.service.tokens import Role

router = APIRouter(
    prefix="/orgs/{org}/webhooks",
    tags=["webhooks"],
    responses={**AUTH_RESPONSES, **NOT_FOUND, **NO_SECRET_KEY},
)

if TYPE_CHECKING:
    EventName = str
else:  # the types of domain/event_types.py, or every one
    EventName = Literal[(*EVENT_TYPES, "*")]


class NewEndpoint(RequestBody):
    url: str = Field(
        max_length=2048,
        description="http:// or https:// URL to POST events to; no user:pass@, an IPv4 "
        "address only as a.b.c.d, and only addresses the outbound address policy allows "
        "(public ones, plus AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS).",
    )
    events: list[EventName] | None = Field(None, description="Event types; default all.")
    secret: str | None = Field(
        None, min_length=16, max_length=256, description="Signing secret; default generated."
    )
    description: str = Field("", max_length=256)
    cloudevents: bool = Field(
        False,
        description="Send each event as a CloudEvents 1.0 structured JSON envelope "
        "(application/cloudevents+json) instead of the bare event.",
    )


class EndpointBody(ResponseBody):
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    cloudevents: bool


class CreatedEndpointBody(EndpointBody):
    secret: str = Field(description="The signing secret: shown only now.")
    standard_webhooks_secret: str = Field(
        description="The same secret in its Standard Webhooks form (whsec_ + base64 of the "
        "key), for a Standard Webhooks library; equal to secret when it was generated."
    )


class EndpointUpdate(RequestBody):
    enabled: bool


class DeliveryBody(ResponseBody):
    id: int
    endpoint_id: int
    event_id: int | None
    event_type: str
    state: str
    attempts: int
    next_attempt: str | None
    last_status_code: int | None
    last_error: str | None = Field(
        description="Why the last attempt failed; with an admin token also the start of the "
        "receiver's answer (`HTTP 500: ...`), with a supervisor token only the summary."
    )
    created: str
    finished: str | None


class TestQueued(ResponseBody):
    delivery_id: int


@router.post("", status_code=201)
def add_endpoint(
    org: OrgAdmin,
    body: NewEndpoint,
    box: WebhookSecretBox,
    context: Context,
    response: Response,
) -> CreatedEndpointBody:
    """Add an endpoint; the answer carries its signing secret, shown only once."""
    try:
        created = webhooks.add_endpoint(
            context.engine,
            box,
            org,
            body.url,
            list(body.events) if body.events else None,
            outbound=context.settings.outbound_policy(),
            secret=body.secret,
            description=body.description,
            cloudevents=body.cloudevents,
        )
    except webhooks.InvalidWebhookUrl as exc:
        # A field error, as FastAPI reports the others; the URL is not echoed (a password
        # or token may be in it).
        error = {"type": "value_error", "loc": ("body", "url"), "msg": exc.message}
        raise RequestValidationError([error]) from None
    response.headers["Cache-Control"] = "no-store"
    return CreatedEndpointBody(
        **created.endpoint.as_json(),
        secret=created.secret,
        standard_webhooks_secret=created.standard_secret,
    )


@router.get("")
def list_endpoints(org: OrgAdmin, context: Context) -> list[EndpointBody]:
    """The organisation's endpoints (never their secrets)."""
    return [EndpointBody(**e.as_json()) for e in webhooks.list_endpoints(context.engine, org)]


@router.patch("/{endpoint_id}")
def update_endpoint(
    org: OrgAdmin, endpoint_id: EndpointId, body: EndpointUpdate, context: Context
) -> EndpointBody:
    """Enable or disable an endpoint; the answer is the endpoint."""
    changed = webhooks.set_endpoint_enabled(context.engine, org, endpoint_id, body.enabled)
    return EndpointBody(**changed.as_json())


@router.delete("/{endpoint_id}", status_code=204)
def remove_endpoint(org: OrgAdmin, endpoint_id: EndpointId, context: Context) -> Response:
    """Remove an endpoint and its delivery record."""
    webhooks.remove_endpoint(context.engine, org, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/test", status_code=202)
def send_test(org: OrgAdmin, endpoint_id: EndpointId, context: Context) -> TestQueued:
    """Queue a `webhook.test` event for the endpoint; see its deliveries for the result."""
    delivery_id = webhooks.enqueue_test(context.engine, org, endpoint_id)
    context.deliverer.wake()
    return TestQueued(delivery_id=delivery_id)


@router.get("/deliveries")
def list_deliveries(
    org: OrgAccess,
    token: CurrentToken,
    context: Context,
    endpoint_id: EndpointFilter = None,
    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000), whole(1, 1000)] = 100,
) -> list[DeliveryBody]:
    """Recent deliveries, newest first; failed ones gave up after 24 hours of retries.
    The start of a receiver's error answer is shown to admin tokens only."""
    found = webhooks.list_deliveries(
        context.engine, org, endpoint_id=endpoint_id, state=state, limit=limit
    )
    detail = token.role is Role.ADMIN
    return [DeliveryBody(**d.as_json(error_detail=detail)) for d in found]
