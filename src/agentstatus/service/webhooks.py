"""Webhook endpoints of an organisation and the record of their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.event_types import EVENT_TYPES, TEST_EVENT
from agentstatus.domain.secret_box import SecretBox
from agentstatus.domain.webhook_secret import new_secret, standard_secret
from agentstatus.outbound import OutboundPolicy, OutboundRefused, check_url
from agentstatus.service import validation
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage import webhooks
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine, Row

DELIVERY_STATES = ("pending", "delivered", "failed")


class InvalidWebhookUrl(InvalidInput):
    """The URL is malformed or the outbound address policy refuses it."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    url: str
    events: list[str]
    enabled: bool
    description: str
    cloudevents: bool = False
    """Bodies are CloudEvents 1.0 structured JSON envelopes."""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "enabled": self.enabled,
            "description": self.description,
            "cloudevents": self.cloudevents,
        }


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str
    """Shown once; the receiver needs it to verify signatures."""

    @property
    def standard_secret(self) -> str:
        """The secret's Standard Webhooks ``whsec_`` form (itself, when generated)."""
        return standard_secret(self.secret)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    endpoint_id: int
    history_id: int | None
    event_type: str
    state: str
    attempts: int
    next_attempt_ms: int
    last_status_code: int | None
    last_error: str | None
    created_ms: int
    finished_ms: int | None

    def as_json(self, *, error_detail: bool = True) -> dict[str, object]:
        """``error_detail`` False keeps only the error's summary (``HTTP 500``): the
        receiver's answer is for the organisation's admins."""
        error = self.last_error
        if error is not None and not error_detail:
            error = error_summary(error)
        return {
            "id": self.id,
            "endpoint_id": self.endpoint_id,
            "event_id": self.history_id,
            "event_type": self.event_type,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt": None if self.state != "pending" else to_iso(self.next_attempt_ms),
            "last_status_code": self.last_status_code,
            "last_error": error,
            "created": to_iso(self.created_ms),
            "finished": None if self.finished_ms is None else to_iso(self.finished_ms),
        }


def error_summary(error: str) -> str:
    """What went wrong without what the receiver said: the part before the first ``: ``
    (``HTTP 500``, ``timeout``, ``ConnectError``, ``refused by the outbound address policy``)."""
    return error.split(": ", 1)[0]


def _check_url(url: str, outbound: OutboundPolicy) -> str:
    try:
        return check_url(url, outbound)
    except OutboundRefused as exc:
        # Never the URL itself: it may carry a password or a token in its query.
        raise InvalidWebhookUrl(f"webhook URL: {exc}") from None


def _check_events(events: list[str] | None) -> str:
    if not events or events == ["*"]:
        return "*"
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"unknown event type(s) {unknown}; use {', '.join(EVENT_TYPES)} or *")
    return ",".join(sorted(set(events)))


def _endpoint(r: Row[Any]) -> Endpoint:
    events = ["*"] if r.events == "*" else r.events.split(",")
    return Endpoint(r.id, r.url, events, bool(r.enabled), r.description, bool(r.cloudevents))


def add_endpoint(
    engine: Engine,
    box: SecretBox,
    org: str,
    url: str,
    events: list[str] | None = None,
    *,
    outbound: OutboundPolicy,
    secret: str | None = None,
    description: str = "",
    cloudevents: bool = False,
) -> CreatedEndpoint:
    """``outbound`` judges the URL now (syntax, and a literal address); every delivery
    judges it again, and each address its host resolves to."""
    clean_url = _check_url(url, outbound)
    event_list = _check_events(events)
    clear = secret if secret is not None else new_secret()
    if len(clear) < 16:
        raise InvalidInput("a webhook secret must be at least 16 characters")
    clean_description = validation.display_name(description)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        new_id = webhooks.insert_endpoint(
            conn,
            oid,
            clean_url,
            box.seal(clear),
            event_list,
            clean_description,
            now_ms(),
            cloudevents=cloudevents,
        )
    endpoint = Endpoint(
        new_id,
        clean_url,
        ["*"] if event_list == "*" else event_list.split(","),
        True,
        clean_description,
        cloudevents,
    )
    return CreatedEndpoint(endpoint, clear)


def list_endpoints(engine: Engine, org: str) -> list[Endpoint]:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        return [_endpoint(r) for r in webhooks.endpoint_rows(conn, oid)]


def _endpoint_id(conn: Connection, oid: int, endpoint_id: int) -> None:
    if not webhooks.endpoint_exists(conn, oid, endpoint_id):
        raise NotFound(f"no webhook endpoint {endpoint_id} in this organisation")


def set_endpoint_enabled(engine: Engine, org: str, endpoint_id: int, enabled: bool) -> Endpoint:
    """Enable or disable an endpoint; returns it as it now is."""
    with engine.begin() as conn:
        _endpoint_id(conn, org_id(conn, org), endpoint_id)
        webhooks.set_enabled(conn, endpoint_id, enabled)
        changed = webhooks.endpoint_row(conn, endpoint_id)
    return _endpoint(changed)


def remove_endpoint(engine: Engine, org: str, endpoint_id: int) -> None:
    """Remove an endpoint and its delivery record; pending deliveries are dropped."""
    with engine.begin() as conn:
        _endpoint_id(conn, org_id(conn, org), endpoint_id)
        webhooks.delete_endpoint(conn, endpoint_id)


def enqueue_test(engine: Engine, org: str, endpoint_id: int) -> int:
    """Queue a ``webhook.test`` event for one endpoint; returns the delivery id."""
    at = now_ms()
    with engine.begin() as conn:
        _endpoint_id(conn, org_id(conn, org), endpoint_id)
        payload = {"type": TEST_EVENT, "org": org, "at": to_iso(at)}
        return webhooks.insert_test_delivery(
            conn, endpoint_id, TEST_EVENT, orjson.dumps(payload).decode(), at
        )


def list_deliveries(
    engine: Engine,
    org: str,
    *,
    endpoint_id: int | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    if state is not None and state not in DELIVERY_STATES:
        raise InvalidInput(f"state must be one of {', '.join(DELIVERY_STATES)}")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    with reading(engine) as conn:
        oid = org_id(conn, org)
        rows = webhooks.delivery_rows(conn, oid, endpoint_id=endpoint_id, state=state, limit=limit)
        return [
            Delivery(
                r.id,
                r.endpoint_id,
                r.history_id,
                r.event_type,
                r.state,
                r.attempts,
                r.next_attempt_ms,
                r.last_status_code,
                r.last_error,
                r.created_ms,
                r.finished_ms,
            )
            for r in rows
        ]


def delivery_counts(engine: Engine, org: str) -> dict[str, int]:
    with reading(engine) as conn:
        return webhooks.delivery_counts(conn, org_id(conn, org))
