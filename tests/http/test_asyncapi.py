"""The event contract, /asyncapi.json: a valid AsyncAPI 3.0 document (the official JSON
Schema, from ``@asyncapi/specs``), served without a token, listing every kind of event;
and what the server sends matches it, field for field (the captures of the whole suite
are checked too: tests/support/contract.py)."""

from __future__ import annotations

import copy
import enum
import time
import typing
from collections.abc import Iterator

import httpx
import jsonschema
import orjson
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agentstatus.domain.calls import Call, CallBook, CallState, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import EVENT_TYPES, TEST_EVENT
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.phone_registration import PhoneSeen, PhoneState
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.domain.queues import CallerChange
from agentstatus.events import signing
from agentstatus.http import event_schemas
from agentstatus.http.asyncapi import (
    MONITOR,
    MONITOR_SENT,
    STREAM,
    WEBHOOKS,
    build_document,
    history_shape,
)
from agentstatus.service import policies
from agentstatus.service.missed_calls import record_missed
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.phone_registration import store_phones
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.database import reading
from tests.support import contract
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.monitor_socket import NodeClient, node_or_skip
from tests.support.queues import ended, joined, write_callers
from tests.support.receiver import LOOPBACK_ENV, Receiver
from tests.support.sse import Subscriber
from tests.support.wire import set_status

KEY = Fernet.generate_key().decode()
ENV = {"AGENTSTATUS_SECRET_KEY": KEY, **LOOPBACK_ENV}


@pytest.fixture(scope="module")
def server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    log = tmp_path_factory.mktemp("asyncapi") / "server.log"
    with InProcessServer(shared_database_url, log, env=ENV) as running:
        yield running


def test_the_document_is_valid_asyncapi_3() -> None:
    contract.validate_document(build_document())


def test_the_validation_is_real_a_broken_document_fails() -> None:
    broken = build_document()
    broken["channels"]["eventStream"]["messages"]["snapshot"] = {"payload": 3}
    with pytest.raises(jsonschema.ValidationError):
        contract.validate_document(broken)
    wrong = copy.deepcopy(build_document())
    wrong["operations"]["sendWebhooks"]["action"] = "emit"
    with pytest.raises(jsonschema.ValidationError):
        contract.validate_document(wrong)


def test_served_without_a_token_as_the_document_built(server: InProcessServer) -> None:
    answer = httpx.get(f"{server.base_url}/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == orjson.loads(orjson.dumps(build_document()))
    contract.validate_document(answer.json())


def test_every_kind_of_event_has_its_message_on_the_stream_and_to_webhooks() -> None:
    doc = build_document()
    stream = set(doc["channels"][STREAM]["messages"])
    hooks = set(doc["channels"][WEBHOOKS]["messages"])
    assert stream == {*EVENT_TYPES, "snapshot", "lagged"}
    assert hooks == {*EVENT_TYPES, TEST_EVENT}
    # Each shape's type names exactly the kinds its messages carry: no kind unlisted.
    kinds = {
        kind
        for shape in (*event_schemas.HISTORY_EVENTS, event_schemas.WebhookTestEvent)
        for kind in typing.get_args(typing.get_type_hints(shape)["type"])
    }
    assert kinds == {*EVENT_TYPES, TEST_EVENT}
    assert set(doc["channels"][MONITOR]["messages"]) == {
        "loginSuccess",
        "loginStatus",
        "AllExtensionsStatus",
        "ExtensionEvent",
        "QueueEvent",
        "ExtensionsUpdated",
        "keepaliveResponse",
        "keepalive",
        "keepAlive",
        "resync",
        "updateMonitoredExtensions",
    }


@pytest.mark.parametrize(
    ("shape", "key", "values"),
    [
        (event_schemas.CallJson, "direction", Direction),
        (event_schemas.CallJson, "state", CallState),
        (event_schemas.PhoneDetail, "phone", PhoneState),
        (event_schemas.QueueCallerJson, "change", CallerChange),
    ],
)
def test_the_documents_words_are_the_servers_enums(
    shape: type, key: str, values: type[enum.StrEnum]
) -> None:
    assert set(typing.get_args(typing.get_type_hints(shape)[key])) == {v.value for v in values}


CALL = orjson.dumps(
    {
        "id": "c1",
        "extension": "1001",
        "direction": "in",
        "state": "Talking",
        "caller_name": "",
        "caller_number": "0501234567",
        "dialled": "035551234",
        "started": "2026-01-05T08:30:00.000Z",
        "answered": None,
    }
).decode()
DETAILS = {
    "agent.missed_call": {"count": 2, "queue": "sales", "ring_ms": 15000},
    "agent.next_status": {"status": 3},
    "extension.phone": {"extension": "1001", "phone": "unregistered"},
    "queue.caller_answered": {
        "queue": "sales",
        "call_id": "c1",
        "phone": "0501234567",
        "joined_ms": 1,
        "wait_ms": 1500,
    },
}


def _history_event(kind: str, **fields: object) -> HistoryEvent:
    is_call = kind.startswith("call.")
    base: dict[str, object] = {
        "id": 7,
        "org": "acme",
        "user_id": "u1",
        "prev_extension": "1001",
        "new_extension": "1001",
        "prev_status": 1,
        "new_status": 3,
        "at_ms": 1_767_601_800_000,
        "source": "pbx",
        "kind": kind,
        "call": CALL if is_call else None,
        "policy": "limit:warn" if kind == "agent.overdue" else None,
        "due_ms": 1_767_601_700_000 if kind == "agent.overdue" else None,
        "detail": orjson.dumps(DETAILS.get(kind, DETAILS["queue.caller_answered"])).decode()
        if kind in DETAILS or kind.startswith("queue.")
        else None,
    }
    base.update(fields)
    return HistoryEvent(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_each_kind_as_the_server_shapes_it_matches_its_message(kind: str) -> None:
    plain = _history_event(kind).as_event_json()
    contract.check_stream(kind, plain)
    contract.check(WEBHOOKS, kind, plain)
    every = _history_event(kind, reason="wrap-up", actor="ana@example.com")
    contract.check_stream(kind, every.as_event_json())
    if kind.startswith("queue."):
        contract.check_stream(kind, _history_event(kind, user_id="").as_event_json())


def test_a_policys_change_carries_its_policy_and_due() -> None:
    moved = _history_event("agent.logout", policy="limit:logout", due_ms=1_767_601_700_000)
    contract.check_stream("agent.logout", moved.as_event_json())


@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_a_field_the_document_does_not_describe_or_a_missing_one_fails(kind: str) -> None:
    shaped = _history_event(kind).as_event_json()
    with pytest.raises(AssertionError, match=r"not expected|Additional properties"):
        contract.check_stream(kind, {**shaped, "surprise": 1})
    assert history_shape(kind) is not None
    without = dict(shaped)
    del without["at"]
    with pytest.raises(AssertionError, match="required"):
        contract.check_stream(kind, without)


def test_the_stream_and_a_webhook_test_from_a_real_server_match(
    server: InProcessServer, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    token = create_token(shared_engine, Role.ADMIN, org.name).token
    api = f"{server.base_url}/api/v1/orgs/{org.name}"
    headers = {"Authorization": f"Bearer {token}"}
    with Receiver() as receiver, Subscriber(f"{api}/events", token) as stream:
        stream.wait_for(1)
        hook = httpx.post(f"{api}/webhooks", json={"url": receiver.url}, headers=headers)
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]  # generated: already in the whsec_ form
        set_status(server.base_url, org.code, org.agents[0], org.extensions[0], 1)
        assert [e.event for e in stream.wait_for(2)] == ["snapshot", "agent.login"]
        receiver.wait_for(1)
        tested = httpx.post(f"{api}/webhooks/{hook.json()['id']}/test", headers=headers)
        assert tested.status_code < 300, tested.text
        got = receiver.wait_for(2)
        assert {orjson.loads(r.body)["type"] for r in got} == {"agent.login", TEST_EVENT}
    assert not receiver.violations
    assert not stream.violations
    assert {(STREAM, "snapshot"), (STREAM, "agent.login"), (WEBHOOKS, TEST_EVENT)} <= contract.seen


def _receive_a_body_missing_its_fields() -> None:
    with Receiver(verify=False) as receiver:  # (not signed: only its shape is wrong)
        headers = {signing.EVENT_TYPE_HEADER: "agent.login"}
        httpx.post(receiver.url, json={"type": "agent.login", "org": "x"}, headers=headers)
        receiver.wait_for(1)


def test_what_does_not_match_fails_the_capturing_test() -> None:
    with pytest.raises(
        AssertionError, match=r"asyncapi\.json says: webhooks agent.login: '\w+' is a required"
    ):
        _receive_a_body_missing_its_fields()


def _wait_for_kinds(stream: Subscriber, wanted: set[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not wanted <= {e.event for e in stream.events} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wanted <= {e.event for e in stream.events}, wanted - {e.event for e in stream.events}


def test_every_kind_from_a_real_server_to_the_stream_and_a_webhook(
    server: InProcessServer, shared_engine: Engine
) -> None:
    """Each kind of EVENT_TYPES made as the server makes it (the phone system's facts
    written as its links write them), read off the stream and a webhook: both check each
    event against the document (tests/support/contract.py)."""
    org = make_org(shared_engine)
    with reading(shared_engine) as conn:
        oid = org_id(conn, org.name)
    token = create_token(shared_engine, Role.ADMIN, org.name).token
    api = f"{server.base_url}/api/v1/orgs/{org.name}"
    headers = {"Authorization": f"Bearer {token}"}
    policies.set_limit(shared_engine, org.name, 3, Limit(1, LimitAction.WARN))
    user, sip = org.agents[0], org.extensions[0]
    at = now_ms()
    with Receiver() as receiver, Subscriber(f"{api}/events", token) as stream:
        stream.wait_for(1)
        hook = httpx.post(f"{api}/webhooks", json={"url": receiver.url}, headers=headers)
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]  # generated: already in the whsec_ form
        set_status(server.base_url, org.code, user, sip, 1)  # agent.login
        book = CallBook()
        call = Call("c-1", sip, Direction.IN, CallState.RINGING, "Dana", "0501", "0399", at)
        for changed in (
            book.start(call),
            book.answer("c-1", at + 1000),
            book.hold("c-1", True),
            book.hold("c-1", False),
        ):
            assert changed is not None
            store_calls(shared_engine, oid, [changed])
        queued = httpx.put(f"{api}/presence/{user}/next", json={"status": 3}, headers=headers)
        assert queued.status_code == 202, queued.text  # agent.next_status
        ended_call = book.end("c-1")
        assert ended_call is not None
        store_calls(shared_engine, oid, [ended_call])
        record_missed(shared_engine, oid, user, MissedOffer(sip, "sales", 15_000))
        store_phones(shared_engine, oid, [PhoneSeen(sip, PhoneState.UNREGISTERED)])
        write_callers(
            shared_engine,
            org.name,
            [
                joined("sales", "q1", "0507", at - 12_000),
                joined("sales", "q2", "0508", at - 11_000),
                joined("sales", "q3", "0509", at - 10_000),
                ended(CallerChange.LEFT, "sales", "q3", "0509", at),
                ended(CallerChange.ABANDONED, "sales", "q1", "0507", at),
                ended(CallerChange.ANSWERED, "sales", "q2", "0508", at, user_id=user),
            ],
        )
        set_status(server.base_url, org.code, user, sip, 3)  # agent.status, then overdue
        _wait_for_kinds(stream, {"agent.overdue"})
        set_status(server.base_url, org.code, user, sip, 2)  # agent.logout
        # agent.wrap_up_started is agent.status's shape (PresenceChangeEvent), made by the
        # phone system's link (tests/policies/test_wrap_up.py, checked the same way).
        wanted = set(EVENT_TYPES) - {"agent.wrap_up_started"}
        _wait_for_kinds(stream, wanted)
        delivered = receiver.wait_for(len(stream.events) - 1)
        assert wanted <= {orjson.loads(r.body)["type"] for r in delivered}
    assert not stream.violations
    assert not receiver.violations


async def test_the_monitor_sockets_messages_from_a_real_server_match(
    server: InProcessServer, shared_engine: Engine
) -> None:
    """A real socket.io client (1.3.7, the SDK's) on the real service: the greeting, a
    change, a queue's caller, keepalive, a narrowing and a resync, each message checked."""
    node_or_skip()
    org = make_org(shared_engine)
    api_token = create_token(shared_engine, Role.SUPERVISOR, org.name, label="crm").token
    answer = httpx.post(
        f"{server.base_url}/monitorAPI/Login/Token", json={"token": api_token}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    socket = answer.json()["Data"]["Socket"]
    client = await NodeClient.start(1, socket["URLList"][0], socket["Token"])
    try:
        await client.until("AllExtensionsStatus")
        set_status(server.base_url, org.code, org.agents[0], org.extensions[0], 3)
        await client.until("ExtensionEvent")
        write_callers(shared_engine, org.name, [joined("sales", "m1", "0507", now_ms())])
        await client.until("QueueEvent")
        sent: list[tuple[str, object]] = [
            ("keepalive", socket["Token"]),
            ("keepAlive", socket["Token"]),
            ("updateMonitoredExtensions", {"extensionsString": org.extensions[0]}),
            ("resync", {"cache": False}),
        ]
        for name, payload in sent:
            contract.check_monitor(name, payload)
            await client.send({"emit": name, "payload": payload})
        await client.until("ExtensionsUpdated")
        await client.until("AllExtensionsStatus")
        await client.until("AllExtensionsStatus")
    finally:
        await client.close()
    from_server = [line for line in client.seen if line["event"] in MONITOR_SENT]
    for line in from_server:
        contract.check_monitor(line["event"], line["payload"])
    assert {line["event"] for line in from_server} == set(MONITOR_SENT)
