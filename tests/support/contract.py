"""What the server sends, checked against its own AsyncAPI document (``/asyncapi.json``).

The test support that captures events calls these (``sse.Subscriber``, the webhook
``Receiver``, the monitor rig's readers), so every event the suite sees is checked: a field the
document does not describe, or one it requires and the server left out, fails the test
that captured it. The AsyncAPI meta-schema (``@asyncapi/specs``, from tests/node) is only
needed to check the document itself.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from agentstatus.events import signing
from agentstatus.http.asyncapi import MONITOR, STREAM, WEBHOOKS, build_document
from tests.support.node import NODE_MODULES, package_or_skip

SPECS = NODE_MODULES / "@asyncapi" / "specs"
ASYNCAPI_SCHEMA = SPECS / "schemas" / "3.0.0.json"

seen: set[tuple[str, str]] = set()
"""(channel, message name) of every message checked in this process."""


@functools.cache
def document() -> dict[str, Any]:
    return build_document()


@functools.cache
def _validator(channel: str, name: str) -> jsonschema.Draft202012Validator:
    doc = document()
    ref = doc["channels"][channel]["messages"][name]["$ref"]
    message = doc["components"]["messages"][ref.rsplit("/", 1)[1]]
    # The payload's $refs are into the document's components: check it with those beside.
    schema = {"$ref": message["payload"]["$ref"], "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def check(channel: str, name: str, payload: object) -> None:
    """Fail unless ``payload`` is what the document says message ``name`` carries."""
    messages = document()["channels"][channel]["messages"]
    assert name in messages, f"{channel} sent {name!r}, which /asyncapi.json does not list"
    errors = sorted(_validator(channel, name).iter_errors(payload), key=str)
    assert not errors, f"{channel} {name}: {errors[0].message} in {payload!r}"
    seen.add((channel, name))


SNAPSHOT_AGENTS = 100
"""A snapshot's agents checked: each has the same shape, and a test's snapshot of many
thousands would take seconds to check whole."""


def check_stream(event: str, data: object) -> None:
    if event == "snapshot" and isinstance(data, dict) and isinstance(data.get("agents"), list):
        data = {**data, "agents": data["agents"][:SNAPSHOT_AGENTS]}
    check(STREAM, event, data)


def check_webhook(headers: dict[str, str], body: bytes) -> None:
    payload = json.loads(body)
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if content_type.startswith("application/cloudevents+json"):
        # A CloudEvents endpoint's envelope: the event is its data.
        assert isinstance(payload, dict), f"a CloudEvents body that is not an object: {body!r}"
        assert payload.get("specversion") == "1.0", f"not CloudEvents 1.0: {body!r}"
        payload = payload.get("data")
    kind = payload.get("type") if isinstance(payload, dict) else None
    assert isinstance(kind, str), f"a webhook body without a type: {body!r}"
    check(WEBHOOKS, kind, payload)
    lowered = {k.lower() for k in headers}
    message = document()["channels"][WEBHOOKS]["messages"][kind]["$ref"].rsplit("/", 1)[1]
    required = document()["components"]["messages"][message]["headers"]["required"]
    missing = [h for h in required if h.lower() not in lowered]
    assert not missing, f"a webhook without the headers {missing}"


PER_KIND = 200
"""Of a capture, the messages of one kind checked: enough to see each variant of a shape,
few enough that a test of thousands of events is not held seconds at its end."""


def violations_of_stream(events: Iterable[tuple[str, object]]) -> list[str]:
    """What of a stream's events does not match the document (each kind's first
    ``PER_KIND``)."""
    found: list[str] = []
    counts: Counter[str] = Counter()
    for name, data in events:
        counts[name] += 1
        if counts[name] <= PER_KIND:
            try:
                check_stream(name, data)
            except AssertionError as exc:
                found.append(str(exc))
    return found


def violations_of_webhooks(requests: Iterable[tuple[dict[str, str], bytes]]) -> list[str]:
    """What of a receiver's webhook deliveries (requests with the event type header; a
    test may POST it other things) does not match the document."""
    found: list[str] = []
    counts: Counter[str] = Counter()
    for headers, body in requests:
        kind = {k.lower(): v for k, v in headers.items()}.get(signing.EVENT_TYPE_HEADER.lower())
        if kind is None:
            continue
        counts[kind] += 1
        if counts[kind] <= PER_KIND:
            try:
                check_webhook(headers, body)
            except (AssertionError, ValueError) as exc:
                found.append(str(exc))
    return found


def check_monitor(event: str, payload: object) -> None:
    check(MONITOR, event, payload)


def asyncapi_schema_or_skip() -> dict[str, Any]:
    """The official AsyncAPI 3.0.0 JSON Schema; skips without tests/node (fails in CI)."""
    package_or_skip("@asyncapi/specs")
    loaded: dict[str, Any] = json.loads(ASYNCAPI_SCHEMA.read_text())
    return loaded


def validate_document(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` is a valid AsyncAPI 3.0.0
    document. The schema is draft-07 with its parts under ``definitions``, each with an
    ``$id`` it refers to them by: they are registered so, and nothing is fetched."""
    schema = asyncapi_schema_or_skip()
    resources = [(k, DRAFT7.create_resource(v)) for k, v in schema["definitions"].items()]
    registry: Registry[Any] = Registry().with_resources(resources)
    registry = registry.with_resource(schema.get("$id", ""), Resource.from_contents(schema))
    jsonschema.Draft7Validator(schema, registry=registry).validate(doc)
