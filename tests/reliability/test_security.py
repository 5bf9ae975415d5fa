"""Security under attack (SPEC.md 3.2, 5, 6) against a real server: brute force of Codes,
tenants kept apart, roles enforced, secrets neither stored in clear nor logged.

The server trusts 127.0.0.1 as a proxy, so each test speaks for its own client addresses
through ``X-Forwarded-For``; it keeps the default limit of 20 failed authentications per
address and minute. Organisations A and B share agent and extension names (101-104,
sip1-sip3); B also has agent 105 and extension sip4. Every secret made here is
remembered, and the last test looks for each one in every log file of the test run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.codes import digest
from agentstatus.service.agents import add_agent
from agentstatus.service.extensions import add_extension
from agentstatus.service.presence import list_presence
from agentstatus.service.statuses import add_status, update_status
from agentstatus.service.tokens import Role, create_token
from agentstatus.service.webhooks import add_endpoint, list_endpoints
from agentstatus.storage.key_file import secret_box_for
from tests.reliability.figures import record
from tests.reliability.operations import ADMIN_ONLY, REQUESTS, call, snapshot
from tests.reliability.secrets_seen import SecretsSeen
from tests.support.compat import (
    GET_STATUSES_LIST,
    SET_STATUS,
    SPEC_OUTCOMES,
    assert_row,
    db_path,
)
from tests.support.factories import OrgFixture, make_org
from tests.support.receiver import LOOPBACK
from tests.support.server import ServerProcess

LIMIT = 20  # the default
SEEN = SecretsSeen()


@dataclass
class World:
    server: ServerProcess
    client: httpx.Client
    engine: Engine
    url: str
    a: OrgFixture
    b: OrgFixture
    webhook_secret: str

    def token(self, role: Role, org: OrgFixture | None = None) -> dict[str, str]:
        made = create_token(self.engine, role, org.name if org else None).token
        SEEN.remember(made)
        return {"Authorization": f"Bearer {made}"}

    def api(self, headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, headers=headers, timeout=30)

    def org(self) -> OrgFixture:
        made = make_org(self.engine, agent_count=4)
        SEEN.remember(made.code)
        return made


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("security")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    engine = open_database(url)
    a, b = make_org(engine, agent_count=4), make_org(engine, agent_count=4)
    add_agent(engine, b.name, "105", "B only")
    add_extension(engine, b.name, "sip4", "B desk")
    update_status(engine, b.name, 3, name="B lunch")
    add_status(engine, b.name, 20, "B coaching")
    box = secret_box_for(url, None)
    hook = add_endpoint(engine, box, b.name, "http://127.0.0.1:9/hook", outbound=LOOPBACK)
    SEEN.remember(a.code, b.code, hook.secret)
    env = {"AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1"}
    try:
        with (
            ServerProcess(url, base / "server.log", env=env) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            yield World(server, client, engine, url, a, b, hook.secret)
    finally:
        engine.dispose()


def status(world: World, code: str, user: str, ext: str, st: int, address: str) -> httpx.Response:
    query = {"Code": code, "UserId": user, "ExtensionUser": ext, "Status": str(st)}
    return world.client.get(SET_STATUS, params=query, headers={"X-Forwarded-For": address})


def wrong_code() -> str:
    code = secrets.token_hex(24)
    SEEN.remember(code)
    return code


def test_a_brute_force_gets_20_tries_then_429_for_the_rest_of_the_minute(world: World) -> None:
    org, attacker, bystander = world.org(), "198.51.100.66", "198.51.100.67"
    tries = 0
    while (answer := status(world, wrong_code(), "101", "sip1", 1, attacker)).status_code == 200:
        assert_row(answer, 6)
        tries += 1
        assert tries <= 100, "never limited"
    assert tries == LIMIT
    for _ in range(30):  # every further try, right Code or wrong, on every endpoint
        assert_row(status(world, wrong_code(), "101", "sip1", 1, attacker), 5)
    assert_row(status(world, org.code, "101", "sip1", 1, attacker), 5)
    listing = world.client.get(
        GET_STATUSES_LIST, params={"code": org.code}, headers={"X-Forwarded-For": attacker}
    )
    assert (listing.status_code, listing.json()) == SPEC_OUTCOMES[5]
    assert 1 <= int(listing.headers["retry-after"]) <= 60
    comet = world.client.get(
        "/Comet/api/GetExtensions", params={"code": org.code}, headers={"X-Forwarded-For": attacker}
    )
    assert (comet.status_code, comet.json()) == (429, {"ERR": 1, "DESC": "Unauthorized"})
    # Other addresses are not affected, neither their successes nor their failures.
    assert_row(status(world, org.code, "102", "sip2", 1, bystander), 12)
    assert_row(status(world, wrong_code(), "102", "sip2", 1, bystander), 6)
    assert [p.extension for p in list_presence(world.engine, org.name)] == [
        None,
        "sip2",
        None,
        None,
    ]
    record("brute_force", attempts_before_limiting=tries, limit=LIMIT)


def test_a_parallel_brute_force_is_bounded_too(world: World) -> None:
    """A lookup in flight holds one of the allowance, so exactly the limit is tried
    however many connections guess at once."""
    attacker, parallel = "198.51.100.68", 10

    def attack(_: int) -> list[int]:
        with httpx.Client(base_url=world.server.base_url, timeout=30) as client:
            query = {"UserId": "101", "ExtensionUser": "sip1", "Status": "1"}
            xff = {"X-Forwarded-For": attacker}
            return [
                client.get(
                    SET_STATUS, params={**query, "Code": wrong_code()}, headers=xff
                ).status_code
                for _ in range(10)
            ]

    with ThreadPoolExecutor(parallel) as pool:
        answers = [code for batch in pool.map(attack, range(parallel)) for code in batch]
    tried = answers.count(200)
    assert tried == LIMIT
    assert answers.count(429) == len(answers) - tried
    record("brute_force_parallel", connections=parallel, attempts_before_limiting=tried)


def test_one_organisations_code_reaches_nothing_of_another(world: World) -> None:
    a, b, me = world.a, world.b, "198.51.100.70"
    before = snapshot(world.engine, b.name)
    assert_row(status(world, a.code, "105", "sip1", 1, me), 6)  # B's agent, A's Code
    assert_row(status(world, a.code, "101", "sip4", 1, me), 8)  # B's extension
    assert_row(status(world, b.code, "102", "sip2", 3, me), 12)  # B's 102, at B's sip2
    assert_row(status(world, a.code, "101", "sip2", 1, me), 12)  # A's 101: a namesake
    assert_row(status(world, a.code, "101", "sip2", 20, me), 9)  # B's own status
    where = {p.user_id: (p.extension, p.status) for p in list_presence(world.engine, b.name)}
    assert where["101"] == (None, 2)
    assert where["102"] == ("sip2", 3)
    new_events = snapshot(world.engine, b.name)["history"][len(before["history"]) :]  # type: ignore[index,arg-type]
    assert [(e.user_id, e.new_extension, e.new_status) for e in new_events] == [("102", "sip2", 3)]
    listed = world.client.get(GET_STATUSES_LIST, params={"code": a.code}).json()["Statuses"]
    names = {s["Name"] for s in listed}
    assert "Lunch break" in names
    assert not {"B lunch", "B coaching"} & names
    comet = world.client.get("/Comet/api/GetExtensions", params={"code": a.code}).json()
    assert [e["SIP"] for e in comet["EXTENSIONS"]] == ["sip1", "sip2", "sip3"]
    calls = world.client.get("/comet/api/GetExtensionsCalls", params={"code": a.code}).json()
    held = {e["username"]: (e["onlineUserID"], e["onlineUserStatus"]) for e in calls["EXTENSIONS"]}
    assert held == {"sip1": (0, 2), "sip2": (101, 1), "sip3": (0, 2)}  # not B's 102


def target_values(world: World, org: str) -> dict[str, str]:
    (endpoint, *_) = list_endpoints(world.engine, org)
    return {
        "org": org,
        "user_id": "101",
        "extension": "sip3",
        "status_id": "3",
        "endpoint_id": str(endpoint.id),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR])
def test_a_token_scoped_to_one_organisation_gets_403_on_every_path_of_another(
    world: World, role: Role
) -> None:
    a, b = world.a, world.b
    values = target_values(world, b.name)
    before = snapshot(world.engine, b.name)
    with world.api(world.token(role, a)) as client:
        on_b = {key: call(client, key, values)[0] for key in REQUESTS if "{org}" in key[1]}
        assert on_b == dict.fromkeys(on_b, 403)  # the event stream included
        assert [o["name"] for o in client.get("/api/v1/orgs").json()] == [a.name]
        assert call(client, ("GET", "/api/v1/orgs/{org}/presence"), {"org": a.name})[0] == 200
    assert snapshot(world.engine, b.name) == before


def test_a_supervisor_cannot_administer(world: World) -> None:
    org = world.org()
    box = secret_box_for(world.url, None)
    add_endpoint(world.engine, box, org.name, "http://127.0.0.1:9/x", outbound=LOOPBACK)
    values = target_values(world, org.name)
    before = snapshot(world.engine, org.name)
    with world.api(world.token(Role.SUPERVISOR)) as client:
        refused = {key: call(client, key, values, "supervisor")[0] for key in ADMIN_ONLY}
    assert refused == dict.fromkeys(ADMIN_ONLY, 403)
    assert snapshot(world.engine, org.name) == before
    # The same requests from an admin are valid, and do change things.
    with world.api(world.token(Role.ADMIN)) as client:
        for key in ADMIN_ONLY:
            code, body = call(client, key, values, "admin")
            assert 200 <= code < 300, (key, code, body)
            SEEN.remember(
                *(body[k] for k in ("code", "secret") if isinstance(body, dict) and k in body)
            )
    assert snapshot(world.engine, org.name) != before


def test_secrets_are_not_stored_in_clear(world: World) -> None:
    tokens = [world.token(Role.ADMIN)["Authorization"].split()[1] for _ in range(3)]
    database = db_path(world.url)
    files = [p for p in database.parent.glob(database.name + "*") if p.suffix != ".key"]
    assert len(files) >= 2  # the database and its write-ahead log
    stored = b"".join(p.read_bytes() for p in files)
    assert digest(world.a.code).encode() in stored  # these are the right files
    assert digest(tokens[0]).encode() in stored
    for secret in [world.a.code, world.b.code, world.webhook_secret, *tokens]:
        assert secret.encode() not in stored
        assert secret.upper().encode() not in stored


def test_no_log_of_the_run_holds_a_secret_made_here(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Last: every Code, token and webhook secret this module made (and the Codes it
    mistyped), in every log file under the test run's base directory."""
    marker = f"/end-of-security-{secrets.token_hex(4)}"
    assert world.client.get(marker).status_code == 404
    deadline = time.monotonic() + 10
    while marker not in world.server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker in world.server.log_path.read_text()  # the log is written through
    logs, found = SEEN.scan_logs(tmp_path_factory.getbasetemp())
    assert world.server.log_path in logs
    assert "Code=[redacted]" in world.server.log_path.read_text()
    assert len(SEEN.values) > LIMIT
    assert found == []
    record("secrets_in_logs", log_files=len(logs), secrets=len(SEEN.values), found=len(found))
