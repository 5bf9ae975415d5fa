"""Voicenter's real-time monitor end to end (issue 25): the SDK's login over HTTP, then a
real socket.io client from npm (1.3.7, what the Events SDK bundles, and 4.8.x) on the real
service, seeing what agentstatus's own changes make — checked against the keys of
Voicenter's recording. Also the docs' example (``docs/examples/monitor-crm.js``), run."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms
from agentstatus.service import monitor_login
from agentstatus.service.tokens import Role, create_token
from tests.conftest import OrgFactory
from tests.support.monitor_socket import NODE_DIR, NodeClient, node_or_skip
from tests.support.queues import joined, write_callers
from tests.support.server import ServerProcess

SAMPLE = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "voicenter-events-sample.json").read_text()
)
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "monitor-crm.js"
# The example requires the socket.io client the SDK bundles, from the tests' harness.
EXAMPLE_ENV = {
    **os.environ,
    "SOCKET_IO_CLIENT": str(NODE_DIR / "node_modules" / "socket.io-client-1"),
}


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return shared_database_url_on_each_engine


@pytest.fixture
async def clients() -> AsyncIterator[list[NodeClient]]:
    started: list[NodeClient] = []
    yield started
    for client in started:
        await client.close()


def login(server: ServerProcess, engine: Engine, org: str) -> dict[str, Any]:
    """The SDK's token login with a supervisor token of ``org``: ``Data.Socket``."""
    api_token = create_token(engine, Role.SUPERVISOR, org, label="crm").token
    answer = httpx.post(f"{server.base_url}/monitorAPI/Login/Token", json={"token": api_token})
    assert answer.status_code == 200, answer.text
    socket: dict[str, Any] = answer.json()["Data"]["Socket"]
    assert socket["URLList"] == [server.base_url]
    assert socket["Version"] == "1.3.7"
    return socket


def set_status(server: ServerProcess, code: str, user: str, sip: str, status: int) -> None:
    answer = httpx.get(
        f"{server.base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user, "ExtensionUser": sip, "Status": status},
    ).json()
    assert answer["StatusErroMessage"] == "OK", answer


async def extension_event(client: NodeClient) -> dict[str, Any]:
    event: dict[str, Any] = (await client.until("ExtensionEvent"))["payload"]
    return event


def keys_of(name: str) -> set[str]:
    return set(SAMPLE[name])


@pytest.mark.parametrize("version", [1, 4])
async def test_a_crm_logs_in_connects_and_sees_the_changes(
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    clients: list[NodeClient],
    version: int,
) -> None:
    node_or_skip()
    org = shared_org_factory()
    socket = login(shared_server, shared_engine, org.name)
    client = await NodeClient.start(version, socket["URLList"][0], socket["Token"])
    clients.append(client)

    # The greeting, pushed by the server (the SDK never asks for it), in order.
    success = (await client.until("loginSuccess"))["payload"]
    assert set(success) == keys_of("loginSuccess")
    assert (success["errorCode"], success["errorDesc"]) == (0, "OK")
    status = (await client.line())["payload"]
    assert set(status) == keys_of("loginStatus")
    everyone = (await client.until("AllExtensionsStatus"))["payload"]
    assert set(everyone) == keys_of("AllExtensionsStatus")
    shown = {e["extenUser"]: e for e in everyone["extensions"]}
    assert sorted(shown) == ["sip1", "sip2", "sip3"]
    for extension in shown.values():
        assert set(extension) == set(SAMPLE["AllExtensionsStatus"]["extensions"][0])
        assert (extension["representative"], extension["representativeStatus"]) == (0, 2)

    # A CRM's change: one ExtensionEvent, the recording's keys, the agent and its status.
    set_status(shared_server, org.code, "101", "sip1", 3)
    event = await extension_event(client)
    like = SAMPLE["ExtensionEvent_userStatusUpdate_logout"]
    assert set(event) == set(like)
    assert set(event["data"]) == set(like["data"])
    assert (event["eventName"], event["reason"]) == ("extension", "userStatusUpdate")
    data = event["data"]
    assert (data["extenUser"], data["userID"]) == ("sip1", shown["sip1"]["userID"])
    assert (data["onlineUserID"], data["representative"], data["representativeStatus"]) == (
        101,
        101,
        3,
    )
    # Voicenter's clock: the SDK takes the offset off again.
    offset = event["servertimeoffset"]
    assert abs(event["servertime"] - offset * 60 - data["representativeUpdated"] // 1000) <= 2

    # The same status again: OK, nothing recorded, announced again (as Voicenter does).
    set_status(shared_server, org.code, "101", "sip1", 3)
    again = await extension_event(client)
    assert (again["data"]["extenUser"], again["data"]["representativeStatus"]) == ("sip1", 3)

    # The SDK's keepalive (both spellings).
    await client.send({"emit": "keepAlive", "payload": socket["Token"]})
    alive = (await client.until("keepaliveResponse"))["payload"]
    assert (alive["isOk"], alive["errorCode"], alive["serverTimeOffset"]) == (True, 0, offset)

    # Narrowed to sip2 (by SIP name): sip1's change is not sent, sip2's is.
    await client.send(
        {"emit": "updateMonitoredExtensions", "payload": {"extensionsString": "sip2"}}
    )
    updated = (await client.until("ExtensionsUpdated"))["payload"]
    assert updated == str(shown["sip2"]["userID"])
    narrowed = (await client.until("AllExtensionsStatus"))["payload"]
    assert [e["extenUser"] for e in narrowed["extensions"]] == ["sip2"]
    set_status(shared_server, org.code, "101", "sip1", 2)
    set_status(shared_server, org.code, "102", "sip2", 1)
    event = await extension_event(client)
    assert (event["data"]["extenUser"], event["data"]["representative"]) == ("sip2", 102)

    # A caller joins a queue: every socket of the organisation hears it.
    write_callers(shared_engine, org.name, [joined("support", "call-1", "0501234567", now_ms())])
    queued = (await client.until("QueueEvent"))["payload"]
    assert set(queued) == keys_of("QueueEvent_JOIN")
    assert (queued["reason"], queued["data"]["QueueName"]) == ("JOIN", "support")
    assert [c["CallerID"] for c in queued["data"]["Calls"]] == ["0501234567"]


async def test_a_logout_empties_the_extension(
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    clients: list[NodeClient],
) -> None:
    node_or_skip()
    org = shared_org_factory()
    set_status(shared_server, org.code, "101", "sip1", 1)
    socket = login(shared_server, shared_engine, org.name)
    client = await NodeClient.start(1, socket["URLList"][0], socket["Token"])
    clients.append(client)
    everyone = (await client.until("AllExtensionsStatus"))["payload"]
    (sip1,) = [e for e in everyone["extensions"] if e["extenUser"] == "sip1"]
    assert (sip1["representative"], sip1["representativeStatus"]) == (101, 1)
    set_status(shared_server, org.code, "101", "sip1", 2)
    data = (await extension_event(client))["data"]
    # As recorded: nobody at it (0), Logout (2), the last agent's name kept.
    assert (data["onlineUserID"], data["representative"], data["representativeStatus"]) == (0, 0, 2)
    assert data["summery"]["representative"] == "Agent 1"


async def test_revoking_the_login_ends_its_socket_and_its_token(
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    clients: list[NodeClient],
) -> None:
    node_or_skip()
    org = shared_org_factory()
    socket = login(shared_server, shared_engine, org.name)
    client = await NodeClient.start(1, socket["URLList"][0], socket["Token"])
    clients.append(client)
    await client.until("AllExtensionsStatus")
    (grant,) = monitor_login.list_logins(shared_engine, org.name)
    monitor_login.revoke_login(shared_engine, org.name, grant.id)
    await client.until("disconnect", timeout=15)
    again = await NodeClient.start(1, socket["URLList"][0], socket["Token"])
    clients.append(again)
    refused = await again.until("error")
    assert refused["payload"] == "Not authorized"


async def test_a_refreshed_login_replaces_the_socket_token(
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    clients: list[NodeClient],
) -> None:
    node_or_skip()
    org = shared_org_factory()
    old = login(shared_server, shared_engine, org.name)
    answer = httpx.get(
        f"{shared_server.base_url}/monitorAPI/RefreshIdentityToken",
        headers={"Authorization": f"Bearer {old['RefreshToken']}"},
    )
    assert answer.status_code == 200, answer.text
    new = answer.json()["Data"]["Socket"]
    assert new["Token"] != old["Token"]
    refused = await NodeClient.start(1, old["URLList"][0], old["Token"])
    clients.append(refused)
    assert (await refused.until("error"))["payload"] == "Not authorized"
    accepted = await NodeClient.start(1, new["URLList"][0], new["Token"])
    clients.append(accepted)
    assert set((await accepted.until("AllExtensionsStatus"))["payload"]) == keys_of(
        "AllExtensionsStatus"
    )


async def test_the_docs_example_runs(
    shared_server: ServerProcess, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    """docs/monitor.md's example: the SDK's steps by hand, with socket.io-client 1.3.7."""
    node = node_or_skip()
    org = shared_org_factory()
    api_token = create_token(shared_engine, Role.SUPERVISOR, org.name).token
    env = EXAMPLE_ENV
    process = await asyncio.create_subprocess_exec(
        node,
        str(EXAMPLE),
        shared_server.base_url,
        api_token,
        "30",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    try:
        seen: list[str] = []

        async def until(name: str) -> dict[str, Any]:
            while True:
                line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
                assert line, f"the example ended; printed {seen}"
                seen.append(line.split(" ", 1)[0])
                if seen[-1] == name:
                    payload: dict[str, Any] = json.loads(line.split(" ", 1)[1])
                    return payload

        await until("AllExtensionsStatus")
        assert (await until("keepaliveResponse"))["isOk"] is True
        await asyncio.to_thread(set_status, shared_server, org.code, "102", "sip2", 5)
        event = await until("ExtensionEvent")
        assert (event["data"]["extenUser"], event["data"]["representativeStatus"]) == ("sip2", 5)
        assert seen[:3] == ["loginSuccess", "loginStatus", "AllExtensionsStatus"]
    finally:
        process.kill()
        await process.wait()


async def test_the_example_says_why_a_login_is_refused(shared_server: ServerProcess) -> None:
    node = node_or_skip()
    env = EXAMPLE_ENV
    process = await asyncio.create_subprocess_exec(
        node,
        str(EXAMPLE),
        shared_server.base_url,
        "ast_not-a-token",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, error = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert error.decode().startswith("login refused: HTTP 401")


async def test_a_socket_sees_its_own_organisation_only(
    shared_server: ServerProcess,
    shared_engine: Engine,
    shared_org_factory: OrgFactory,
    clients: list[NodeClient],
) -> None:
    node_or_skip()
    mine, theirs = shared_org_factory(), shared_org_factory()
    socket = login(shared_server, shared_engine, mine.name)
    client = await NodeClient.start(4, socket["URLList"][0], socket["Token"])
    clients.append(client)
    everyone = (await client.until("AllExtensionsStatus"))["payload"]
    account = everyone["extensions"][0]["accountID"]
    assert {e["accountID"] for e in everyone["extensions"]} == {account}
    set_status(shared_server, theirs.code, "101", "sip1", 3)  # the same names, elsewhere
    write_callers(shared_engine, theirs.name, [joined("support", "theirs", "0509", now_ms())])
    set_status(shared_server, mine.code, "102", "sip2", 1)
    event = await client.line()
    assert event["event"] == "ExtensionEvent", event
    data = event["payload"]["data"]
    assert (data["accountID"], data["extenUser"], data["representative"]) == (account, "sip2", 102)
