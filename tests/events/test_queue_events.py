"""The queues' callers (queue.caller_*) on the event stream, to webhooks and in the history,
on both engines: events of no agent, with their ``queue`` object; an agent's own stream and
history (a panel's) never carry them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.queues import CallerChange
from agentstatus.service import webhooks
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.key_file import secret_box_for
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.queues import ended, joined, write_callers
from tests.support.receiver import LOOPBACK, LOOPBACK_ENV, Receiver, deliveries_once_answered
from tests.support.sse import Subscriber

KEY = Fernet.generate_key().decode()
ENV = {
    "AGENTSTATUS_SECRET_KEY": KEY,
    "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    **LOOPBACK_ENV,
}


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    return shared_database_url_on_each_engine


@pytest.fixture(scope="module")
def server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    log = tmp_path_factory.mktemp("queues") / "server.log"
    with InProcessServer(shared_database_url, log, env=ENV) as running:
        yield running


def events_url(server: InProcessServer, org: OrgFixture) -> str:
    return f"{server.base_url}/api/v1/orgs/{org.name}/events"


def set_status(server: InProcessServer, org: OrgFixture, user: str, ext: str, status: int) -> None:
    answer = httpx.get(
        f"{server.base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": org.code, "UserId": user, "ExtensionUser": ext, "Status": status},
    ).json()
    assert answer["StatusErroMessage"] == "OK"


def test_a_caller_joining_reaches_the_stream_and_its_type_filter(
    server: InProcessServer, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    token = create_token(shared_engine, Role.SUPERVISOR, org.name).token
    url = events_url(server, org)
    at = now_ms()
    typed = [("type", "queue.caller_joined")]
    with Subscriber(url, token) as everything, Subscriber(url, token, params=typed) as joins:
        everything.wait_for(1)
        joins.wait_for(1)
        write_callers(
            shared_engine,
            org.name,
            [
                joined("support", "1796590237.1", "0501234567", at),
                ended(CallerChange.ABANDONED, "support", "1796590237.1", "0501234567", at + 4_000),
            ],
        )
        seen = everything.wait_for(3)[1:]
        (only,) = joins.wait_for(2)[1:]
    assert [e.event for e in seen] == ["queue.caller_joined", "queue.caller_abandoned"]
    assert only.data == seen[0].data
    came = seen[0]
    assert came.data == {
        "id": came.id,
        "type": "queue.caller_joined",
        "org": org.name,
        "at": to_iso(at),
        "source": "pbx",
        "queue": {
            "change": "joined",
            "name": "support",
            "call_id": "1796590237.1",
            "phone": "0501234567",
            "joined_at": to_iso(at),
            "wait_seconds": None,
        },
    }
    gone = seen[1].data["queue"]
    assert (gone["change"], gone["wait_seconds"]) == ("abandoned", 4.0)  # type: ignore[index]


def test_an_agents_own_stream_and_history_leave_out_the_caller_it_answered(
    server: InProcessServer, shared_engine: Engine
) -> None:
    org = make_org(shared_engine)
    token = create_token(shared_engine, Role.SUPERVISOR, org.name).token
    set_status(server, org, "102", "sip2", 1)
    at = now_ms()
    mine = [("user_id", "102")]
    with (
        Subscriber(events_url(server, org), token) as board,
        Subscriber(events_url(server, org), token, params=mine) as panel,
    ):
        board.wait_for(1)
        panel.wait_for(1)
        write_callers(
            shared_engine,
            org.name,
            [
                joined("sales", "c1", "0509", at - 7_000),
                ended(CallerChange.ANSWERED, "sales", "c1", "0509", at, user_id="102"),
            ],
        )
        set_status(server, org, "102", "sip2", 3)  # the agent's own event, after them
        agent_events = panel.wait_for(2)[1:]
        everything = board.wait_for(4)[1:]
    assert [e.event for e in agent_events] == ["agent.status"]
    assert [e.event for e in everything] == [
        "queue.caller_joined",
        "queue.caller_answered",
        "agent.status",
    ]
    answered = everything[1].data
    assert answered["user_id"] == "102"  # who answered it, on the organisation's stream
    assert "previous" not in answered
    assert "new" not in answered
    assert answered["queue"]["wait_seconds"] == 7.0  # type: ignore[index]
    # The history API: the organisation's has them; the agent's own does not.
    headers = {"Authorization": f"Bearer {token}"}
    history = f"{server.base_url}/api/v1/orgs/{org.name}/history"
    rows = httpx.get(history, headers=headers).json()["events"]
    queued = [r for r in rows if "queue" in r]
    assert [r["queue"]["change"] for r in queued] == ["joined", "answered"]
    assert [r["user_id"] for r in queued] == ["", "102"]
    own = httpx.get(history, headers=headers, params={"user_id": "102"}).json()["events"]
    assert own
    assert all("queue" not in r for r in own)


def test_a_webhook_subscribed_to_abandoned_callers_receives_them_only(
    server: InProcessServer, shared_engine: Engine, shared_database_url: str
) -> None:
    org = make_org(shared_engine)
    at = now_ms()
    with Receiver() as receiver:
        webhooks.add_endpoint(
            shared_engine,
            secret_box_for(shared_database_url, KEY),
            org.name,
            receiver.url,
            ["queue.caller_abandoned"],
            outbound=LOOPBACK,
            secret=receiver.secret,
        )
        write_callers(
            shared_engine,
            org.name,
            [
                joined("support", "a1", "", at - 12_000),
                joined("support", "a2", "0507", at - 11_000),
                ended(CallerChange.ABANDONED, "support", "a2", "0507", at),
            ],
        )
        (got,) = receiver.wait_for(1)
    body = orjson.loads(got.body)
    assert body["type"] == "queue.caller_abandoned"
    assert "user_id" not in body
    assert body["queue"]["call_id"] == "a2"
    assert body["queue"]["wait_seconds"] == 11.0
    deliveries_once_answered(shared_engine, org.name)  # and no other
