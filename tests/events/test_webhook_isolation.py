"""Hostile webhook receivers (issue 11, items 1 and 14), against real servers (a process of
its own where its memory or its log is read, else in this process) and real receivers on
loopback: one that never finishes its answer holds only its own deliveries, a huge error
body is never read, the outbound address policy holds when a URL is saved and when it is
used, and a receiver's answer is for admins only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service import webhooks
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.key_file import secret_box_for
from tests.cli.helpers import invoke
from tests.reliability.figures import record
from tests.support.factories import OrgFixture, make_org
from tests.support.forked import run_agentstatus
from tests.support.inprocess import InProcessServer
from tests.support.receiver import (
    LOOPBACK,
    LOOPBACK_ENV,
    Receiver,
    ScriptedReceiver,
    drip_head,
    huge_error,
)
from tests.support.server import ServerProcess

KEY = Fernet.generate_key().decode()
DEADLINE = 4.0
ENV = {
    "AGENTSTATUS_SECRET_KEY": KEY,
    "AGENTSTATUS_WEBHOOK_TIMEOUT_SECONDS": str(DEADLINE),
    "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    **LOOPBACK_ENV,
}
MiB = 1024 * 1024


@pytest.fixture
def any_engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


def hook(engine: Engine, url: str, org: OrgFixture, target: str, secret: str | None = None) -> int:
    box = secret_box_for(url, KEY)
    added = webhooks.add_endpoint(engine, box, org.name, target, outbound=LOOPBACK, secret=secret)
    return added.endpoint.id


def login(base: str, org: OrgFixture, user: str, ext: str) -> None:
    answer = httpx.get(
        f"{base}/UserLogin/SetStatusFromAPI",
        params={"Code": org.code, "UserId": user, "ExtensionUser": ext, "Status": 1},
        timeout=10,
    ).json()
    assert answer["StatusErroMessage"] == "OK"


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_a_dripping_receiver_holds_only_its_own_deliveries(
    any_database_url: str, any_engine: Engine, tmp_path: Path
) -> None:
    engine = any_engine
    """A receiver that sends a status line and then one byte a second, forever, defeats a
    per-read timeout; another organisation's deliveries go on meanwhile, and the dripping
    attempt ends at its deadline, recorded as failed and retried."""
    slow, other = make_org(engine), make_org(engine, agent_count=4, extension_count=4)
    with ScriptedReceiver(drip_head) as drip, Receiver() as fine:
        slow_hook = hook(engine, any_database_url, slow, drip.url)
        hook(engine, any_database_url, other, fine.url, fine.secret)
        with InProcessServer(any_database_url, tmp_path / "s.log", env=ENV) as server:
            delays = []
            for i, user in enumerate(other.agents):
                if i == 1:  # the first one with no receiver dripping, for comparison
                    login(server.base_url, slow, slow.agents[0], "sip1")
                    wait_until(lambda: drip.connections == 1)
                    dripping_since = time.monotonic()
                sent = time.monotonic()
                login(server.base_url, other, user, f"sip{i + 1}")
                fine.wait_for(i + 1)
                delays.append(time.monotonic() - sent)
            quiet, delays = delays[0], delays[1:]
            # All of them arrived while the first dripping attempt was still going.
            during = time.monotonic() - dripping_since
            assert drip.connections == 1
            assert during < DEADLINE
            assert max(delays) < 2.0, delays
            wait_until(lambda: drip.connections >= 2, timeout=DEADLINE + 10)
            retried_after = time.monotonic() - dripping_since
            found = webhooks.list_deliveries(engine, slow.name, endpoint_id=slow_hook)
    (delivery,) = found
    assert delivery.state == "pending"
    assert delivery.attempts >= 1
    assert delivery.last_error == f"timeout: no answer within {DEADLINE:g} s"
    assert DEADLINE - 0.5 < retried_after < DEADLINE + 5
    record(
        "webhook_drip_isolation",
        backend=any_database_url.split(":")[0],
        other_org_delay_quiet_ms=round(quiet * 1000, 1),
        other_org_delay_ms=[round(d * 1000, 1) for d in delays],
        drip_attempt_ended_s=round(retried_after, 2),
    )


def test_a_huge_error_body_is_not_read(
    any_database_url: str, any_engine: Engine, tmp_path: Path
) -> None:
    engine = any_engine
    size = 200 * MiB
    org = make_org(engine)
    env = {**ENV, "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "3600"}
    with ScriptedReceiver(huge_error(size)) as receiver:
        endpoint = hook(engine, any_database_url, org, receiver.url)
        with ServerProcess(any_database_url, tmp_path / "s.log", env=env) as server:
            assert server.process is not None
            pid = server.process.pid
            login(server.base_url, org, org.agents[1], "sip2")  # warm: the same code paths
            wait_until(lambda: receiver.connections == 1)
            # Until the attempt is over (it is counted when it is claimed).
            wait_until(
                lambda: webhooks.list_deliveries(engine, org.name)[0].last_status_code == 500
            )
            time.sleep(0.2)
            rss_before, peak_before = memory_kib(pid, "VmRSS"), memory_kib(pid, "VmHWM")
            started = time.monotonic()
            login(server.base_url, org, org.agents[0], "sip1")
            wait_until(
                lambda: (
                    all(
                        d.last_status_code == 500
                        for d in webhooks.list_deliveries(engine, org.name, endpoint_id=endpoint)
                    )
                    and len(webhooks.list_deliveries(engine, org.name)) == 2
                )
            )
            took = time.monotonic() - started
            rss_after, peak_after = memory_kib(pid, "VmRSS"), memory_kib(pid, "VmHWM")
    errors = [d.last_error for d in webhooks.list_deliveries(engine, org.name)]
    for error in errors:
        assert error is not None
        assert error.startswith("HTTP 500: xxxx")
        assert len(error) <= 500
    assert peak_after - peak_before < 50 * 1024, (peak_before, peak_after)
    assert took < DEADLINE  # the body was not waited for either
    record(
        "webhook_huge_error_body",
        backend=any_database_url.split(":")[0],
        body_mib=size // MiB,
        rss_kib_before=rss_before,
        rss_kib_after=rss_after,
        peak_kib_before=peak_before,
        peak_kib_after=peak_after,
        attempt_s=round(took, 3),
        stored_error_chars=len(errors[0] or ""),
    )


def admin_and_supervisor(engine: Engine, org: OrgFixture) -> tuple[str, str]:
    return (
        create_token(engine, Role.ADMIN, org.name).token,
        create_token(engine, Role.SUPERVISOR, org.name).token,
    )


def test_loopback_is_refused_when_saved_and_when_used_by_default(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """No AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS: a loopback address is a 422 field error
    when saved; a name is judged when used, on the address it resolves to."""
    org = make_org(engine)
    admin, _ = admin_and_supervisor(engine, org)
    env = {"AGENTSTATUS_SECRET_KEY": KEY, "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "3600"}
    with (
        Receiver() as receiver,
        InProcessServer(database_url, tmp_path / "s.log", env=env) as server,
        httpx.Client(
            base_url=f"{server.base_url}/api/v1/orgs/{org.name}",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        ) as api,
    ):
        port = receiver.server.server_address[1]
        for url, why in [
            (receiver.url, "127.0.0.1 is loopback"),
            (f"http://[::ffff:127.0.0.1]:{port}/hook", "loopback"),
            ("http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
            (f"http://2130706433:{port}/hook", "four decimal numbers"),
            (f"http://0x7f.1:{port}/hook", "four decimal numbers"),
            (f"http://017700000001:{port}/hook", "four decimal numbers"),
            ("https://someone:s3cret@crm.example/hook", "user name or password"),
        ]:
            refused = api.post("/webhooks", json={"url": url})
            assert refused.status_code == 422, (url, refused.text)
            (error,) = refused.json()["detail"]
            assert error["loc"] == ["body", "url"]
            assert why in error["msg"]
            assert "s3cret" not in refused.text
        assert api.get("/webhooks").json() == []

        by_name = api.post("/webhooks", json={"url": f"http://localhost:{port}/hook"})
        assert by_name.status_code == 201, by_name.text
        # Saved while the operator allowed loopback, used after the allowance is gone.
        saved_before = hook(engine, database_url, org, receiver.url, receiver.secret)
        for endpoint in (by_name.json()["id"], saved_before):
            assert api.post(f"/webhooks/{endpoint}/test").status_code == 202
        # Until both attempts are over (their attempt is counted when they are claimed).
        wait_until(
            lambda: (
                [
                    (d.attempts, d.last_error is not None)
                    for d in webhooks.list_deliveries(engine, org.name)
                ]
                == [(1, True), (1, True)]
            )
        )
        deliveries = api.get("/webhooks/deliveries").json()
    assert receiver.received == []
    for delivery in deliveries:
        assert delivery["state"] == "pending"
        assert delivery["last_status_code"] is None
        assert delivery["last_error"] == (
            "refused by the outbound address policy: 127.0.0.1 is loopback"
        )


def test_the_cli_applies_the_same_policy(database_url: str, engine: Engine) -> None:
    org = make_org(engine)
    env = {"PATH": "/usr/bin:/bin", "AGENTSTATUS_SECRET_KEY": KEY}
    code, _, stderr = run_agentstatus(
        ["--database", database_url, "webhook", "add", org.name, "http://127.0.0.1:9/hook"],
        env=env,
    )
    assert code == 1
    assert "Traceback" not in stderr
    assert "127.0.0.1 is loopback" in stderr
    # The rest in-process (the same command and exit codes).
    add = ("webhook", "add", org.name)
    numeric = invoke(database_url, *add, "http://0x7f.1/hook", env={"AGENTSTATUS_SECRET_KEY": KEY})
    assert numeric.code == 1
    assert "four decimal numbers" in numeric.stderr
    allowed = invoke(
        database_url,
        *add,
        "http://127.0.0.1:9/hook",
        env={"AGENTSTATUS_SECRET_KEY": KEY, **LOOPBACK_ENV},
    )
    assert allowed.code == 0, allowed.stderr
    assert [e.url for e in webhooks.list_endpoints(engine, org.name)] == ["http://127.0.0.1:9/hook"]


def test_a_receivers_answer_is_shown_to_admins_only(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    def answer(conn: object, stop: threading.Event) -> None:
        body = b"stack trace: \x1b[31mpassword=hunter2\x1b[0m"
        head = f"HTTP/1.1 502 Bad Gateway\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        conn.sendall(head + body)  # type: ignore[attr-defined]

    org = make_org(engine)
    admin, supervisor = admin_and_supervisor(engine, org)
    env = {**ENV, "AGENTSTATUS_WEBHOOK_RETRY_BASE_SECONDS": "3600"}
    with ScriptedReceiver(answer) as receiver:
        hook(engine, database_url, org, receiver.url + "?token=in-the-query")
        with ServerProcess(database_url, tmp_path / "s.log", env=env) as server:
            login(server.base_url, org, org.agents[0], "sip1")
            # Until the attempt is over (it is counted when it is claimed).
            wait_until(
                lambda: webhooks.list_deliveries(engine, org.name)[0].last_status_code == 502
            )
            seen = {}
            for role, token in (("admin", admin), ("supervisor", supervisor)):
                listed = httpx.get(
                    f"{server.base_url}/api/v1/orgs/{org.name}/webhooks/deliveries",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert listed.status_code == 200, listed.text
                (seen[role],) = listed.json()
    assert seen["admin"]["last_status_code"] == seen["supervisor"]["last_status_code"] == 502
    assert seen["admin"]["state"] == seen["supervisor"]["state"] == "pending"
    # Control characters escaped: the operator's terminal shows it as text.
    assert seen["admin"]["last_error"] == (
        "HTTP 502: stack trace: \\x1b[31mpassword=hunter2\\x1b[0m"
    )
    assert seen["supervisor"]["last_error"] == "HTTP 502"
    log = (tmp_path / "s.log").read_text()
    assert "webhook delivery 1 to endpoint 1: HTTP 502 (pending)" in log
    assert "hunter2" not in log
    assert "in-the-query" not in log  # httpx's own request lines are not logged
