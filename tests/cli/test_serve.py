"""``serve`` and ``demo`` as a user runs them: real processes, real HTTP, and the Codes
and tokens the commands print never stored in clear."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.cli.demo import DEMO_ADMIN, DEMO_AGENTS, DEMO_ORG, DEMO_SUPERVISOR
from agentstatus.domain.codes import digest
from agentstatus.service import agents, extensions, organisations, users
from agentstatus.service.tokens import Role
from tests.cli.helpers import (
    AUTH_FAILED_BODY,
    OK_BODY,
    Outcome,
    assert_user_error,
    invoke,
    ok,
    run_cli,
    set_status,
)
from tests.support.changes import deactivate, remove_extension
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess, free_port


def curl_lines(demo_output: str) -> list[list[str]]:
    return [shlex.split(line) for line in demo_output.splitlines() if "curl" in line]


def run_curl(words: list[str]) -> httpx.Response:
    """Perform one of the ``curl`` lines ``demo`` prints (GET, or POST with -H and -d)."""
    assert words[0] == "curl"
    if "-X" not in words:
        return httpx.get(words[1], timeout=30)
    headers = dict([words[words.index("-H") + 1].split(": ", 1)])
    body = words[words.index("-d") + 1]
    return httpx.post(words[words.index("-X") + 2], headers=headers, content=body, timeout=30)


def test_serve_creates_the_schema_and_accepts_a_new_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'serve.db'}"
    with ServerProcess(url, tmp_path / "server.log", extra_args=("--host", "127.0.0.1")) as server:
        health = httpx.get(f"{server.base_url}/healthz", timeout=10)
        assert health.status_code == 200
        created = run_cli(url, "org", "create", "acme")
        assert created.code == 0, created.stderr
        ok(url, "agent", "add", "acme", "1001")
        ok(url, "extension", "add", "acme", "sip1001")
        assert set_status(server.base_url, created.last_line, "1001", "sip1001") == (200, OK_BODY)
        presence = json.loads(ok(url, "presence", "acme", "--json").stdout)
        assert [(p["user_id"], p["extension"], p["status"]) for p in presence] == [
            ("1001", "sip1001", 1)
        ]


def board_sign_in(base_url: str, demo: Outcome, which: str = "the board") -> int:
    """Sign in with the e-mail and password of ``demo``'s line about ``which``; then the
    line's address must answer (303 when signed in, else the refusal's status)."""
    found = re.search(rf"{which}: (\S+) +\(sign in as (\S+), password (\S+)\)", demo.stdout)
    assert found is not None, demo.stdout
    assert found.group(1).startswith(base_url + "/")
    with httpx.Client() as client:
        answer = client.post(
            f"{base_url}/sign-in",
            data={"email": found.group(2), "password": found.group(3)},
            headers={"sec-fetch-site": "same-origin"},
        )
        if answer.status_code == 303:
            shown = client.get(found.group(1), follow_redirects=True)
            assert shown.status_code == 200, (found.group(1), shown.text)
    return answer.status_code


def test_demo_is_idempotent_and_its_curl_lines_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    open_database(url).dispose()  # the schema, before the server in this process reads it
    with InProcessServer(url, tmp_path / "server.log") as server:
        first = invoke(url, "demo", "--base-url", server.base_url)
        second = invoke(url, "demo", "--base-url", server.base_url + "/")
        assert first.code == second.code == 0, first.stderr + second.stderr
        old_code, new_code = first.last_line, second.last_line
        assert old_code != new_code
        assert re.fullmatch(r"[0-9a-f]{48}", new_code)

        get, post, statuses = curl_lines(second.stdout)
        assert f"Code={new_code}" in get[1]
        answer = run_curl(get)
        assert (answer.status_code, answer.json()) == (200, OK_BODY)
        answer = run_curl(post)
        assert (answer.status_code, answer.json()) == (200, OK_BODY)
        listed = run_curl(statuses).json()
        assert [s["ID"] for s in listed["Statuses"]][:2] == [1, 2]
        assert set_status(server.base_url, old_code, "1001", "sip1001") == (200, AUTH_FAILED_BODY)

        # The board's line: its e-mail and password sign in; the first run's password not.
        signs_in = [board_sign_in(server.base_url, line) for line in (first, second)]
        assert signs_in == [401, 303]
        # The admin's line too: the administration pages are reachable from the demo.
        admin = [board_sign_in(server.base_url, r, "the admin pages") for r in (first, second)]
        assert admin == [401, 303]
        assert f"the admin pages: {server.base_url}/o/{DEMO_ORG}/admin " in second.stdout

    engine = open_database(url)
    try:
        assert [o.name for o in organisations.list_organisations(engine)] == [DEMO_ORG]
        assert sorted((u.email, u.role, u.org) for u in users.list_users(engine)) == [
            (DEMO_ADMIN, Role.ADMIN, DEMO_ORG),
            (DEMO_SUPERVISOR, Role.SUPERVISOR, DEMO_ORG),
        ]
        assert [(a.user_id, a.name) for a in agents.list_agents(engine, DEMO_ORG)] == list(
            DEMO_AGENTS
        )
        assert [e.extension for e in extensions.list_extensions(engine, DEMO_ORG)] == [
            f"sip{user_id}" for user_id, _ in DEMO_AGENTS
        ]
    finally:
        engine.dispose()


def test_demo_repairs_what_was_changed_since(database_url: str, engine: Engine) -> None:
    assert invoke(database_url, "demo").code == 0
    deactivate(engine, DEMO_ORG, "1001")
    remove_extension(engine, DEMO_ORG, "sip1001")
    agents.add_agent(engine, DEMO_ORG, "2000", "Someone else")
    again = invoke(database_url, "demo")
    assert again.code == 0, again.stderr
    found = {a.user_id: a for a in agents.list_agents(engine, DEMO_ORG)}
    assert found["1001"].active is True
    assert set(found) == {"1001", "1002", "1003", "1004", "1005", "2000"}
    assert "sip1001" in [e.extension for e in extensions.list_extensions(engine, DEMO_ORG)]
    with engine.connect() as conn:
        assert organisations.org_id_for_code(conn, again.last_line) is not None


def test_secrets_never_reach_the_database_or_the_log_in_clear(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'secrets.db'}"
    log = tmp_path / "server.log"
    with ServerProcess(url, log) as server:
        code = ok(url, "org", "create", "acme").last_line
        rotated = ok(url, "org", "rotate-code", "acme").last_line
        chosen = ok(url, "org", "create", "beta", "--code", "Chosen-Code-0123456789").last_line
        token = ok(url, "token", "create", "--role", "admin").last_line
        demo_code = ok(url, "demo").last_line
        ok(url, "agent", "add", "acme", "1001")
        ok(url, "extension", "add", "acme", "sip1")
        assert set_status(server.base_url, rotated, "1001", "sip1") == (200, OK_BODY)
        assert set_status(server.base_url, code, "1001", "sip1")[1] == AUTH_FAILED_BODY
        assert set_status(server.base_url, rotated, "1001", "nope")[0] == 200
    secrets = [code, rotated, chosen, token, demo_code]
    assert len(set(secrets)) == 5
    files = [p for p in tmp_path.iterdir() if p.name.startswith("secrets.db")]
    stored = b"".join(p.read_bytes() for p in files)
    assert digest(rotated).encode() in stored  # the right files, and they hold the digests
    for secret in secrets:
        assert secret.encode() not in stored, secret
        assert secret not in log.read_text()


def test_serve_reads_host_and_port_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AGENTSTATUS_HOST": "127.0.0.1", "AGENTSTATUS_PORT": str(port)}
    url = f"sqlite:///{tmp_path / 'env.db'}"
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentstatus", "--database", url, "serve", "--no-access-log"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline, answered = time.monotonic() + 30, False
        while time.monotonic() < deadline and not answered and process.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
            except httpx.HTTPError:
                time.sleep(0.1)
        assert answered, (tmp_path / "server.log").read_text()
    finally:
        process.terminate()
        process.wait(15)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"AGENTSTATUS_LOG_LEVEL": "chatty"}, "AGENTSTATUS_LOG_LEVEL"),
        ({"AGENTSTATUS_TRUSTED_PROXIES": "not-an-address"}, "AGENTSTATUS_TRUSTED_PROXIES"),
        ({"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "-1"}, "AGENTSTATUS_AUTH_FAILURES_PER_MINUTE"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(
    database_url: str, env: dict[str, str], fragment: str
) -> None:
    assert_user_error(run_cli(database_url, "serve", "--port", str(free_port()), env=env), fragment)


def test_serve_refuses_an_unusable_database_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run_cli(f"sqlite:///{blocker / 'x.db'}", "serve", "--port", str(free_port()))
    assert_user_error(done, "database")


def test_serve_refuses_a_port_out_of_range(database_url: str) -> None:
    done = run_cli(database_url, "serve", "--port", "70000")
    assert done.code == 2
    assert "Traceback" not in done.stderr
    assert "70000" in done.stderr
