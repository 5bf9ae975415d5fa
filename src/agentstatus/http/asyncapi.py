"""The event contract as an AsyncAPI 3.0 document (``GET /asyncapi.json``): the event
stream, the webhooks and the Voicenter monitor socket.

Built from the types the server sends (``http.event_schemas``): each message's payload is
pydantic's JSON Schema of its shape, so the document cannot describe a field the server
does not send, and the tests validate real captured events against it.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

import orjson

from agentstatus import __version__
from agentstatus.domain.event_types import EVENT_TYPES, TEST_EVENT
from agentstatus.events import signing
from agentstatus.http import event_schemas as shapes
from agentstatus.wire import monitor_events as monitor

ASYNCAPI_VERSION = "3.0.0"
_SCHEMAS = "#/components/schemas/"
_MESSAGES = "#/components/messages/"

STREAM = "eventStream"
WEBHOOKS = "webhooks"
MONITOR = "monitorSocket"

WEBHOOK_HEADERS = {
    signing.EVENT_ID_HEADER: "The event's id (a test's: test-…): de-duplicate by it.",
    signing.EVENT_TYPE_HEADER: "The event's type (its body's type).",
    signing.DELIVERY_HEADER: "The delivery's id (`agentstatus webhook deliveries`).",
    signing.TIMESTAMP_HEADER: "When it was signed: epoch seconds.",
    signing.SIGNATURE_HEADER: (
        "v1=<hex HMAC-SHA256 of `<timestamp>.<raw body>` keyed with the endpoint's secret>."
    ),
    # Standard Webhooks (standardwebhooks.com): what its libraries verify.
    signing.STANDARD_ID_HEADER: "The message's id, the same on every retry (Standard Webhooks).",
    signing.STANDARD_TIMESTAMP_HEADER: "The attempt's epoch seconds (Standard Webhooks).",
    signing.STANDARD_SIGNATURE_HEADER: (
        "v1,<base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw body>` keyed with "
        "the bytes of the endpoint's whsec_ secret> (Standard Webhooks)."
    ),
}

# The monitor socket's messages, server to client: the socket.io event name and its shape.
MONITOR_SENT: dict[str, tuple[object, str]] = {
    monitor.LOGIN_SUCCESS: (shapes.LoginSuccess, "On connect, once authenticated."),
    monitor.LOGIN_STATUS: (shapes.LoginStatus, "On connect: the queues and their callers."),
    monitor.ALL_EXTENSIONS_STATUS: (
        shapes.AllExtensionsStatus,
        "On connect, on resync and after updateMonitoredExtensions: every extension monitored.",
    ),
    monitor.EXTENSION_EVENT: (
        shapes.ExtensionEvent,
        "An extension's status change (userStatusUpdate) or call's event.",
    ),
    monitor.QUEUE_EVENT: (shapes.QueueEvent, "A queue's caller joined, left or was answered."),
    monitor.EXTENSIONS_UPDATED: (
        str,
        "After updateMonitoredExtensions: the numeric ids now monitored, comma-separated "
        '("": all).',
    ),
    monitor.KEEPALIVE_RESPONSE: (shapes.KeepaliveResponse, "The answer to keepalive."),
}
# Client to server.
MONITOR_RECEIVED: dict[str, tuple[object, str]] = {
    "keepalive": (Any, "Keep the socket alive (the token; not checked)."),
    "keepAlive": (Any, "keepalive, as other SDK versions spell it."),
    "resync": (Any, "Ask for AllExtensionsStatus as it is now (the SDK sends {cache: false})."),
    "updateMonitoredExtensions": (
        shapes.UpdateMonitoredExtensions,
        "Monitor only these extensions; answered by ExtensionsUpdated and AllExtensionsStatus.",
    ),
}


def history_shape(kind: str) -> type[Any]:
    """The shape of an event of the history of this kind (``webhook.test`` included)."""
    return _shape_of_kind()[kind]


@functools.cache
def _shape_of_kind() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for shape in (*shapes.HISTORY_EVENTS, shapes.WebhookTestEvent):
        for kind in typing.get_args(typing.get_type_hints(shape)["type"]):
            found[kind] = shape
    return found


class _Schemas:
    """The document's ``components.schemas``: every shape's schema, nested ones by ref."""

    def __init__(self) -> None:
        self.all: dict[str, Any] = {}

    def ref(self, shape: object, name: str) -> dict[str, str]:
        if name not in self.all:
            schema = shapes.json_schema_of(shape, _SCHEMAS + "{model}")
            self.all.update(schema.pop("$defs", {}))
            self.all[name] = schema
        return {"$ref": _SCHEMAS + name}


def _message(
    name: str, payload: dict[str, str], summary: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": payload,
    }
    if headers is not None:
        message["headers"] = headers
    return message


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document (a fresh copy)."""
    schemas = _Schemas()
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}

    def add(prefix: str, name: str, message: dict[str, Any]) -> dict[str, str]:
        key = f"{prefix}.{name}"  # AsyncAPI's keys are [\w.-]+
        messages[key] = message
        return {"$ref": _MESSAGES + key}

    history = {kind: _shape_of_kind()[kind] for kind in EVENT_TYPES}
    stream_messages = {
        "snapshot": add(
            "stream",
            "snapshot",
            _message(
                "snapshot",
                schemas.ref(shapes.Snapshot, "Snapshot"),
                "The first event: every agent's presence; its SSE id is the cursor.",
            ),
        ),
        "lagged": add(
            "stream",
            "lagged",
            _message(
                "lagged",
                schemas.ref(shapes.Lagged, "Lagged"),
                "The last event of a stream dropped for falling behind.",
            ),
        ),
    }
    webhook_messages: dict[str, dict[str, str]] = {}
    headers = {
        "type": "object",
        "required": list(WEBHOOK_HEADERS),
        "properties": {h: {"type": "string", "description": d} for h, d in WEBHOOK_HEADERS.items()},
    }
    for kind, shape in {**history, TEST_EVENT: shapes.WebhookTestEvent}.items():
        payload = schemas.ref(shape, shape.__name__)
        summary = (shape.__doc__ or "").strip().splitlines()[0]
        if kind != TEST_EVENT:
            stream_messages[kind] = add("stream", kind, _message(kind, payload, summary))
        webhook_messages[kind] = add("webhook", kind, _message(kind, payload, summary, headers))

    channels[STREAM] = {
        "address": "/api/v1/orgs/{org}/events",
        "title": "The event stream (Server-Sent Events)",
        "description": (
            "GET with `Authorization: Bearer <token>`. Each SSE event's `event:` is the "
            "message's name and its `data:` the payload; `id:` is the event's id (resume "
            "with `Last-Event-ID`). See docs/events-and-webhooks.md."
        ),
        "parameters": {"org": {"description": "The organisation's key."}},
        "messages": stream_messages,
    }
    channels[WEBHOOKS] = {
        "address": None,
        "title": "Webhooks",
        "description": (
            "POSTed to each endpoint's URL, JSON, signed (headers); answered 2xx, or retried."
        ),
        "messages": webhook_messages,
    }
    sent = {
        name: add("monitor", name, _message(name, schemas.ref(shape, f"Monitor_{name}"), doc))
        for name, (shape, doc) in MONITOR_SENT.items()
    }
    received = {
        name: add("monitor", name, _message(name, schemas.ref(shape, f"Monitor_{name}"), doc))
        for name, (shape, doc) in MONITOR_RECEIVED.items()
    }
    channels[MONITOR] = {
        "address": "/socket.io/",
        "title": "Voicenter's real-time monitor (socket.io)",
        "description": (
            "The Voicenter Events SDK's socket: a socket.io event's name is the message's "
            "name, its first argument the payload. See docs/monitor.md."
        ),
        "messages": {**sent, **received},
    }

    def operation(action: str, channel: str, names: dict[str, dict[str, str]]) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names],
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "agentstatus events",
            "version": __version__,
            "description": (
                "What agentstatus pushes: the event stream, webhooks and the Voicenter "
                "monitor socket. The native API is /openapi.json."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {
            "sendEventStream": operation("send", STREAM, stream_messages),
            "sendWebhooks": operation("send", WEBHOOKS, webhook_messages),
            "sendMonitor": operation("send", MONITOR, sent),
            "receiveMonitor": operation("receive", MONITOR, received),
        },
        "components": {"schemas": schemas.all, "messages": messages},
    }


@functools.cache
def document_json() -> bytes:
    """The document, encoded once."""
    return orjson.dumps(build_document())
