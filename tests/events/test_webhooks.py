"""Webhooks against a real receiver on loopback: from the service in this process, and from
real server processes where one is killed or several deliver."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine
from standardwebhooks import Webhook

from agentstatus.app import open_database
from agentstatus.events import signing
from agentstatus.service import webhooks
from agentstatus.storage.key_file import secret_box_for
from tests.cli.helpers import invoke
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.receiver import LOOPBACK, LOOPBACK_ENV, Receiver, deliveries_once_answered
from tests.support.server import ServerProcess

KEY = Fernet.generate_key().decode()
FAST = {
    "AGENTSTATUS_SECRET_KEY": KEY,
    "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    # Long enough for a batch of 30 to be sent and recorded on a loaded machine (a lease
    # that runs out first lets the other instance deliver again: at least once, not once).
    "AGENTSTATUS_WEBHOOK_LEASE_SECONDS": "3",
    **LOOPBACK_ENV,
}


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


@pytest.fixture(scope="module")
def hook_server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """The module's server, in this process, for what needs no process of its own (each
    test makes its own organisation); kills and several instances get their own database."""
    log = tmp_path_factory.mktemp("hooks") / "server.log"
    with InProcessServer(shared_database_url, log, env=FAST) as server:
        yield server


@pytest.fixture
def url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_database(url)
    yield engine
    engine.dispose()


def add_hook(
    engine: Engine, url: str, org: OrgFixture, receiver: Receiver
) -> webhooks.CreatedEndpoint:
    """An endpoint for ``receiver``, with the secret it verifies every delivery with."""
    box = secret_box_for(url, KEY)
    return webhooks.add_endpoint(
        engine, box, org.name, receiver.url, outbound=LOOPBACK, secret=receiver.secret
    )


def login(base: str, org: OrgFixture, user: str, ext: str, status: int = 1) -> None:
    answer = httpx.get(
        f"{base}/UserLogin/SetStatusFromAPI",
        params={"Code": org.code, "UserId": user, "ExtensionUser": ext, "Status": status},
        timeout=10,
    ).json()
    assert answer["StatusErroMessage"] == "OK"


def test_signed_delivery_verifies(
    shared_database_url: str, shared_engine: Engine, hook_server: InProcessServer
) -> None:
    url, engine = shared_database_url, shared_engine
    org = make_org(engine)
    with Receiver() as receiver:
        hook = add_hook(engine, url, org, receiver)
        login(hook_server.base_url, org, "101", "sip1")
        (got,) = receiver.wait_for(1)
    body = orjson.loads(got.body)
    assert body["type"] == "agent.login"
    assert body["user_id"] == "101"
    assert body["new"] == {"extension": "sip1", "status": 1}
    assert got.headers[signing.EVENT_ID_HEADER] == str(body["id"])
    # Standard Webhooks, beside today's headers (the receiver verified it too).
    assert Webhook(hook.secret).verify(got.body, got.headers) == body
    delivery_id = got.headers[signing.DELIVERY_HEADER]
    assert got.headers["webhook-id"].startswith(f"msg_{delivery_id}_")
    assert got.headers["webhook-timestamp"] == got.headers[signing.TIMESTAMP_HEADER]
    assert got.headers["webhook-signature"].startswith("v1,")
    assert signing.verify(
        hook.secret,
        got.headers[signing.TIMESTAMP_HEADER],
        got.body,
        got.headers[signing.SIGNATURE_HEADER],
        now=int(time.time()),
    )
    assert not signing.verify(
        "another-secret-entirely",
        got.headers[signing.TIMESTAMP_HEADER],
        got.body,
        got.headers[signing.SIGNATURE_HEADER],
        now=int(time.time()),
    )
    (delivery,) = deliveries_once_answered(engine, org.name)
    assert delivery.attempts == 1


def test_failed_attempts_are_retried(
    shared_database_url: str, shared_engine: Engine, hook_server: InProcessServer
) -> None:
    url, engine = shared_database_url, shared_engine
    org = make_org(engine)
    with Receiver(respond=lambda n: 503 if n <= 2 else 200) as receiver:
        add_hook(engine, url, org, receiver)
        login(hook_server.base_url, org, "101", "sip1")
        got = receiver.wait_for(3)
        deliveries_once_answered(engine, org.name)
    assert len({g.headers[signing.EVENT_ID_HEADER] for g in got}) == 1
    assert len({g.headers["webhook-id"] for g in got}) == 1  # each attempt verified
    (delivery,) = webhooks.list_deliveries(engine, org.name)
    assert delivery.attempts == 3
    assert delivery.last_status_code == 200


def test_an_endpoint_with_a_secret_of_its_own_verifies_in_its_whsec_form(
    shared_database_url: str, shared_engine: Engine, hook_server: InProcessServer
) -> None:
    """A secret that is not whsec_ + base64 (chosen by an admin, or generated before secrets
    were) keeps working: the receiver gives its whsec_ form to the library."""
    url, engine = shared_database_url, shared_engine
    org = make_org(engine)
    with Receiver(secret="whsec_an-old-url_safe-one-0123456789") as receiver:
        hook = add_hook(engine, url, org, receiver)
        assert hook.standard_secret == "whsec_" + base64.b64encode(hook.secret.encode()).decode()
        login(hook_server.base_url, org, "101", "sip1")
        (got,) = receiver.wait_for(1)
    assert Webhook(hook.standard_secret).verify(got.body, got.headers)["type"] == "agent.login"


def test_a_cloudevents_endpoint_gets_structured_envelopes(
    shared_database_url: str, shared_engine: Engine, hook_server: InProcessServer
) -> None:
    url, engine = shared_database_url, shared_engine
    org = make_org(engine)
    with Receiver() as receiver:
        box = secret_box_for(url, KEY)
        hook = webhooks.add_endpoint(
            engine,
            box,
            org.name,
            receiver.url,
            outbound=LOOPBACK,
            secret=receiver.secret,
            cloudevents=True,
        )
        assert hook.endpoint.cloudevents
        assert webhooks.list_endpoints(engine, org.name)[0].cloudevents
        login(hook_server.base_url, org, "101", "sip1")
        (got,) = receiver.wait_for(1)  # the Standard Webhooks signature covers the envelope
    assert got.headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    envelope = orjson.loads(got.body)
    data = envelope.pop("data")
    assert envelope == {
        "specversion": "1.0",
        "id": got.headers[signing.EVENT_ID_HEADER],
        "source": f"/orgs/{org.name}",
        "type": "agent.login",
        "datacontenttype": "application/json",
        "time": data["at"],
    }
    assert data["type"] == "agent.login"
    assert data["user_id"] == "101"
    assert str(data["id"]) == envelope["id"]


def test_killed_mid_delivery_delivers_after_restart(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    org = make_org(engine)
    with Receiver() as receiver:
        add_hook(engine, url, org, receiver)
        receiver.hang.set()
        server = ServerProcess(url, tmp_path / "s.log", env=FAST).start()
        try:
            login(server.base_url, org, "101", "sip1")
            assert receiver.arrived.wait(10)  # the delivery is claimed and in flight, hanging
            server.kill()
        finally:
            server.stop()
        assert webhooks.list_deliveries(engine, org.name)[0].state == "pending"
        receiver.hang.clear()
        with ServerProcess(url, tmp_path / "s2.log", env=FAST):
            got = receiver.wait_for(2)
            deadline = time.monotonic() + 10
            while webhooks.list_deliveries(engine, org.name)[0].state != "delivered":
                assert time.monotonic() < deadline
                time.sleep(0.1)
    # At least once: the same event, identified by the same id, may arrive twice.
    assert {g.headers[signing.EVENT_ID_HEADER] for g in got} == {
        got[0].headers[signing.EVENT_ID_HEADER]
    }


def test_two_instances_deliver_each_event_once(url: str, engine: Engine, tmp_path: Path) -> None:
    org = make_org(engine, agent_count=30, extension_count=30)
    with Receiver() as receiver:
        add_hook(engine, url, org, receiver)
        with (
            ServerProcess(url, tmp_path / "a.log", env=FAST) as a,
            ServerProcess(url, tmp_path / "b.log", env=FAST) as b,
        ):
            for i, user in enumerate(org.agents):
                login((a, b)[i % 2].base_url, org, user, f"sip{i + 1}")
            got = receiver.wait_for(30)
            time.sleep(1.5)  # room for any duplicate to show up
    ids = [g.headers[signing.EVENT_ID_HEADER] for g in receiver.received]
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert len(got) == 30


def test_cli_webhook_test_sends_a_test_event(url: str, engine: Engine) -> None:
    """On a database of its own: a server's deliverer could take the test event first."""
    org = make_org(engine)
    with Receiver() as receiver:
        hook = add_hook(engine, url, org, receiver)
        result = invoke(
            url,
            "webhook",
            "test",
            org.name,
            str(hook.endpoint.id),
            env={"AGENTSTATUS_SECRET_KEY": KEY, **LOOPBACK_ENV},
        )
        assert result.code == 0, result.stderr
        (got,) = receiver.wait_for(1)
    assert orjson.loads(got.body)["type"] == "webhook.test"
    assert got.headers[signing.EVENT_TYPE_HEADER] == "webhook.test"
    assert hook.secret not in result.stdout + result.stderr
