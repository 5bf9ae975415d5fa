"""The server's webhook key: found once at start, shared by the webhook API (which seals
secrets) and the deliverer (which opens them to sign). The server runs in this process
(it builds the service when it starts, as a process does) but where its log is read."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, make_url, select

from agentstatus.app import open_database
from agentstatus.domain.secret_box import SecretBox
from agentstatus.events import signing
from agentstatus.service import webhooks
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.schema import webhook_endpoints
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.receiver import LOOPBACK, LOOPBACK_ENV, Receiver
from tests.support.server import ServerProcess


def admin_client(server: ServerProcess, engine: Engine) -> httpx.Client:
    token = create_token(engine, Role.ADMIN).token
    return httpx.Client(
        base_url=f"{server.base_url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_the_configured_key_seals_and_the_deliverer_signs(
    any_database_url: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    engine = open_database(any_database_url)
    org = make_org(engine)
    env = {"AGENTSTATUS_SECRET_KEY": key, **LOOPBACK_ENV}
    try:
        with (
            Receiver() as receiver,
            InProcessServer(any_database_url, tmp_path / "s.log", env=env) as server,
            admin_client(server, engine) as admin,
        ):
            created = admin.post(f"/orgs/{org.name}/webhooks", json={"url": receiver.url})
            assert created.status_code == 201, created.text
            hook = created.json()
            receiver.secret = hook["secret"]  # generated: already in the whsec_ form
            queued = admin.post(f"/orgs/{org.name}/webhooks/{hook['id']}/test")
            assert queued.status_code == 202
            (got,) = receiver.wait_for(1)
        assert signing.verify(
            hook["secret"],
            got.headers[signing.TIMESTAMP_HEADER],
            got.body,
            got.headers[signing.SIGNATURE_HEADER],
            now=int(time.time()),
        )
        with engine.connect() as conn:
            sealed = conn.execute(select(webhook_endpoints.c.secret_enc)).scalar_one()
        assert SecretBox(key).open(sealed) == hook["secret"]
    finally:
        engine.dispose()


def test_the_key_file_is_read_once_when_the_server_starts(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    key_file = Path(str(make_url(database_url).database) + ".key")
    org = make_org(engine)
    with (
        Receiver() as receiver,
        InProcessServer(database_url, tmp_path / "s.log", env=LOOPBACK_ENV) as server,
        admin_client(server, engine) as admin,
    ):
        assert key_file.exists()
        # A request that looked for the key again would make a new file and seal with a key
        # the deliverer does not hold.
        key_file.unlink()
        created = admin.post(
            f"/orgs/{org.name}/webhooks", json={"url": receiver.url, "secret": receiver.secret}
        )
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["id"]
        assert admin.post(f"/orgs/{org.name}/webhooks/{endpoint_id}/test").status_code == 202
        receiver.wait_for(1)
        assert not key_file.exists()
    deadline = time.monotonic() + 10
    while webhooks.list_deliveries(engine, org.name)[0].state != "delivered":
        assert time.monotonic() < deadline, webhooks.list_deliveries(engine, org.name)
        time.sleep(0.05)


def test_a_server_with_another_key_records_why_it_cannot_sign(
    any_database_url: str, tmp_path: Path
) -> None:
    engine = open_database(any_database_url)
    org = make_org(engine)
    stored_with = SecretBox(Fernet.generate_key())
    env = {
        "AGENTSTATUS_SECRET_KEY": Fernet.generate_key().decode(),
        "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "60",
        **LOOPBACK_ENV,
    }
    try:
        with Receiver() as receiver:
            hook = webhooks.add_endpoint(
                engine, stored_with, org.name, receiver.url, outbound=LOOPBACK
            )
            with (
                ServerProcess(any_database_url, tmp_path / "s.log", env=env) as server,
                admin_client(server, engine) as admin,
            ):
                path = f"/orgs/{org.name}/webhooks/{hook.endpoint.id}/test"
                assert admin.post(path).status_code == 202
                deadline = time.monotonic() + 10
                while (found := webhooks.list_deliveries(engine, org.name))[0].last_error is None:
                    assert time.monotonic() < deadline, found
                    time.sleep(0.05)
            assert receiver.received == []
        (delivery,) = found
        assert delivery.state == "pending"
        assert delivery.last_error is not None
        assert "AGENTSTATUS_SECRET_KEY is not the key it was stored with" in delivery.last_error
        assert "Traceback" not in (tmp_path / "s.log").read_text()
    finally:
        engine.dispose()
