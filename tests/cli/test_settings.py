"""Every command reads its configuration from the same ``Settings`` as the server: a bad
``AGENTSTATUS_*`` variable is one line and exit 1 wherever it is read, and the webhook key
comes from ``AGENTSTATUS_SECRET_KEY`` through it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, make_url, select

from agentstatus.app import open_database
from agentstatus.domain.secret_box import SecretBox
from agentstatus.service import organisations
from agentstatus.settings import LOG_LEVELS
from agentstatus.storage.schema import webhook_endpoints
from tests.cli.helpers import assert_user_error, invoke, run_cli
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess, free_port

SECRET_LOOKING = "not-a-fernet-key-but-still-private"
BAD_VARIABLES = [
    ({"AGENTSTATUS_PORT": "eighty"}, "invalid AGENTSTATUS_PORT"),
    ({"AGENTSTATUS_LOG_LEVEL": "chatty"}, "invalid AGENTSTATUS_LOG_LEVEL: use one of"),
    ({"AGENTSTATUS_SECRET_KEY": SECRET_LOOKING}, "invalid AGENTSTATUS_SECRET_KEY: must be 32"),
    ({"AGENTSTATUS_WEBHOOK_TIMEOUT_SECONDS": "-1"}, "AGENTSTATUS_WEBHOOK_TIMEOUT_SECONDS"),
]
COMMANDS = [
    ("org", "list"),
    ("org", "create", "acme"),
    ("agent", "list", "acme"),
    ("presence", "acme"),
    ("history", "acme"),
    ("token", "list"),
    ("webhook", "list", "acme"),
    ("demo",),
    ("db", "upgrade"),
]


@pytest.mark.parametrize(("env", "fragment"), BAD_VARIABLES, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_bad_variable_is_one_line_for_every_command(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], fragment: str
) -> None:
    database = tmp_path / "untouched.db"
    done = invoke(f"sqlite:///{database}", *args, env=env)
    assert_user_error(done, fragment)
    assert done.code == 1
    assert SECRET_LOOKING not in done.stderr
    assert not database.exists()


@pytest.mark.parametrize(("env", "fragment"), BAD_VARIABLES[:3], ids=lambda v: str(v)[:40])
def test_a_bad_variable_stops_serve_and_db_copy_in_a_real_process(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    database = tmp_path / "untouched.db"
    url = f"sqlite:///{database}"
    served = run_cli(url, "serve", "--port", str(free_port()), env=env)
    copied = run_cli(None, "db", "copy", "--from", url, "--to", f"{url}2", env=env)
    for done in (served, copied):
        assert_user_error(done, fragment)
        assert done.code == 1
        assert SECRET_LOOKING not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_variable_means_the_default(database_url: str) -> None:
    done = invoke(database_url, "org", "list", env={"AGENTSTATUS_SECRET_KEY": ""})
    assert done.code == 0, done.stderr


def test_webhook_add_seals_with_the_key_from_the_environment(database_url: str) -> None:
    key = Fernet.generate_key().decode()
    key_file = Path(str(make_url(database_url).database) + ".key")
    assert invoke(database_url, "org", "create", "acme").code == 0
    env = {"AGENTSTATUS_SECRET_KEY": key}
    added = run_cli(database_url, "webhook", "add", "acme", "https://crm.example/hook", env=env)
    assert added.code == 0, added.stderr
    engine = open_database(database_url)
    try:
        with engine.connect() as conn:
            sealed = conn.execute(select(webhook_endpoints.c.secret_enc)).scalar_one()
    finally:
        engine.dispose()
    assert SecretBox(key).open(sealed) == added.last_line
    assert not key_file.exists()  # the key given wins over the file the default would make


def test_postgresql_needs_the_key_and_uses_it(postgres_databases: PostgresDatabases) -> None:
    url = postgres_databases.create()
    assert invoke(url, "org", "create", "acme").code == 0
    hook = ("webhook", "add", "acme", "https://crm.example/hook")
    assert_user_error(run_cli(url, *hook), "AGENTSTATUS_SECRET_KEY")
    key = Fernet.generate_key().decode()
    added = run_cli(url, *hook, env={"AGENTSTATUS_SECRET_KEY": key})
    assert added.code == 0, added.stderr
    listed = invoke(url, "webhook", "list", "acme")
    assert "https://crm.example/hook" in listed.stdout


def test_webhook_test_with_another_key_says_so(database_url: str, engine: Engine) -> None:
    organisations.create_organisation(engine, "acme")
    first = {"AGENTSTATUS_SECRET_KEY": Fernet.generate_key().decode()}
    other = {"AGENTSTATUS_SECRET_KEY": Fernet.generate_key().decode()}
    added = run_cli(database_url, "webhook", "add", "acme", "https://crm.example/", env=first)
    assert added.code == 0, added.stderr
    endpoint_id = added.stdout.split()[2]
    done = run_cli(database_url, "webhook", "test", "acme", endpoint_id, env=other)
    assert done.code == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "AGENTSTATUS_SECRET_KEY is not the key it was stored with" in line


def test_serve_options_win_over_the_environment(tmp_path: Path) -> None:
    from_env, from_option = free_port(), free_port()
    env = {"AGENTSTATUS_PORT": str(from_env), "AGENTSTATUS_ACCESS_LOG": "false"}
    log = tmp_path / "server.log"
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    with ServerProcess(url, log, port=from_option, env=env, extra_args=("--access-log",)):
        assert httpx.get(f"http://127.0.0.1:{from_option}/healthz", timeout=10).is_success
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{from_env}/healthz", timeout=2)
    assert '"GET /healthz" 200' in log.read_text()


def test_demo_prints_curl_lines_for_where_serve_listens(database_url: str) -> None:
    done = invoke(database_url, "demo", env={"AGENTSTATUS_PORT": "9123"})
    assert done.code == 0, done.stderr
    assert "curl 'http://127.0.0.1:9123/UserLogin/SetStatusFromAPI?" in done.stdout


def test_the_log_levels_are_uvicorns() -> None:
    from uvicorn.config import LOG_LEVELS as UVICORN_LEVELS

    assert set(LOG_LEVELS) == set(UVICORN_LEVELS)


def test_serve_runs_at_every_log_level_in_any_case(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'levels.db'}"
    for level in ("TRACE", "warning"):
        env = {"AGENTSTATUS_LOG_LEVEL": level}
        with ServerProcess(url, tmp_path / f"{level}.log", env=env) as server:
            assert httpx.get(f"{server.base_url}/healthz", timeout=10).is_success


def test_webhook_add_shows_a_chosen_secrets_whsec_form_and_takes_cloudevents(
    database_url: str,
) -> None:
    env = {"AGENTSTATUS_SECRET_KEY": Fernet.generate_key().decode()}
    assert invoke(database_url, "org", "create", "acme").code == 0
    add = ("webhook", "add", "acme", "https://crm.example/hook")
    added = invoke(database_url, *add, "--secret", "a secret of our own", "--cloudevents", env=env)
    assert added.code == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[-3:] == [
        "a secret of our own",
        "its Standard Webhooks form (for a standardwebhooks library):",
        "whsec_YSBzZWNyZXQgb2Ygb3VyIG93bg==",
    ]
    listed = invoke(database_url, "webhook", "list", "acme", "--json", env=env)
    assert listed.code == 0, listed.stderr
    assert [e["cloudevents"] for e in json.loads(listed.stdout)] == [True]
