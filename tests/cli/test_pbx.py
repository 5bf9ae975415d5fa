"""``agentstatus pbx set|show|off``: the settings saved with the secret sealed (never shown
nor stored in clear), refusals in one line, the connection's state shown."""

from __future__ import annotations

import json
import sqlite3

from sqlalchemy import Engine

from tests.cli.helpers import assert_user_error, invoke, ok
from tests.support.factories import make_org

SECRET = "ami-very-secret-42"


def test_set_show_and_off(database_url: str, engine: Engine) -> None:
    org = make_org(engine)
    made = ok(
        database_url,
        *(
            "pbx",
            "set",
            org.name,
            "asterisk",
            "--host",
            "pbx.example.com",
            "--username",
            "agentstatus",
        ),
        *("--queue", "support", "--queue", "sales", "--secret-stdin"),
        stdin=SECRET + "\n",
    )
    assert "asterisk at pbx.example.com:5038, queues support, sales" in made.stdout
    shown = ok(database_url, "pbx", "show", org.name)
    assert "connected:      no" in shown.stdout
    assert "PJSIP/{extension}" in shown.stdout
    as_json = json.loads(ok(database_url, "pbx", "show", org.name, "--json").stdout)
    assert as_json["kind"] == "asterisk"
    assert as_json["queues"] == ["support", "sales"]
    assert as_json["connected"] is False
    assert as_json["last_reconcile"] is None
    for output in (made.stdout, shown.stdout, json.dumps(as_json)):
        assert SECRET not in output
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (sealed,) = db.execute("SELECT secret_enc FROM pbx_connections").fetchone()
    assert SECRET not in sealed
    # Changing the settings without a secret keeps the stored one, for the same server;
    # another host (or port, or kind) needs the secret again.
    same = ("pbx", "set", org.name, "asterisk", "--username", "agentstatus")
    ok(database_url, *same, "--host", "pbx.example.com", "--queue", "support")
    assert_user_error(
        invoke(database_url, *same, "--host", "pbx2.example.com", "--queue", "support"),
        "give the secret again",
    )
    with sqlite3.connect(path) as db:
        (kept,) = db.execute("SELECT secret_enc FROM pbx_connections").fetchone()
    assert kept == sealed
    assert "off" in ok(database_url, "pbx", "off", org.name).stdout
    assert "has no phone system" in ok(database_url, "pbx", "show", org.name).stdout
    assert_user_error(invoke(database_url, "pbx", "off", org.name), "has no phone system")


def test_bad_settings_are_one_line(database_url: str, engine: Engine) -> None:
    org = make_org(engine)
    base = ("pbx", "set", org.name)
    assert_user_error(
        invoke(database_url, *base, "asterisk", "--host", "h", "--queue", "q", "--secret-stdin",
               stdin="x\n"),
        "username",
    )  # fmt: skip
    assert_user_error(
        invoke(database_url, *base, "freeswitch", "--host", "h", "--queue", "q"),
        "needs its secret",
    )
    assert_user_error(
        invoke(database_url, *base, "freeswitch", "--host", "h", "--queue", "q", "--contact",
               "user/1001", "--secret-stdin", stdin="x\n"),
        "contact must contain {extension}",
    )  # fmt: skip
    assert_user_error(
        invoke(database_url, *base, "freeswitch", "--host", "169.254.169.254", "--queue", "q",
               "--secret-stdin", stdin="x\n"),
        "outbound address policy",
    )  # fmt: skip
    assert_user_error(
        invoke(database_url, "pbx", "show", "nosuchorg"), "no organisation named 'nosuchorg'"
    )
