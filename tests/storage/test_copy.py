"""``agentstatus db copy``: SQLite to PostgreSQL and back, with history intact."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from agentstatus.app import create_status_store, open_database
from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.queues import CallerChange
from agentstatus.domain.secret_box import SecretBox
from agentstatus.service import presence, tokens, webhooks
from agentstatus.service.history import read_history
from agentstatus.service.organisations import list_organisations
from agentstatus.service.queues import queues_now, set_queue
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.tokens import Role
from agentstatus.storage.copy import AlreadyInTarget, NotInSource, copy_organisations
from agentstatus.storage.key_file import secret_box_for
from agentstatus.storage.schema import webhook_endpoints
from tests.cli.helpers import run_cli
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import PostgresDatabases
from tests.support.queues import ended, joined, write_callers
from tests.support.receiver import LOOPBACK


def drive(url: str, org: OrgFixture, steps: list[tuple[str, str, int]]) -> None:
    async def run() -> None:
        store = StatusChanges(create_status_store(url), lambda result: None)
        await store.start()
        try:
            for user, ext, status in steps:
                result = await store.apply(
                    StatusCommand(user, ext, status, Source.POST, "10.0.0.1", digest(org.code))
                )
                assert result.row == 12
        finally:
            await store.close()

    asyncio.run(run())


def snapshot_of(engine: Engine, org: str) -> tuple[list[object], list[object]]:
    people = [
        (p.user_id, p.name, p.extension, p.status, p.since_ms)
        for p in presence.list_presence(engine, org)
    ]
    events = [
        (
            e.user_id,
            e.prev_extension,
            e.new_extension,
            e.prev_status,
            e.new_status,
            e.at_ms,
            e.source,
            e.client_addr,
        )
        for e in read_history(engine, org, limit=1000).events
    ]
    return people, events


def test_copy_to_postgres_and_back(tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    source = open_database(source_url)
    org = make_org(source, agent_count=4, extension_count=4, name="acme")
    other = make_org(source, agent_count=1, extension_count=1, name="other")
    drive(
        source_url,
        org,
        [("101", "sip1", 1), ("102", "sip2", 3), ("101", "sip3", 5), ("102", "sip2", 2)],
    )
    token = tokens.create_token(source, Role.SUPERVISOR, "acme").token
    endpoint = webhooks.add_endpoint(
        source,
        secret_box_for(source_url, None),
        "acme",
        "http://127.0.0.1:9/hook",
        outbound=LOOPBACK,
    )
    before = snapshot_of(source, "acme")

    pg_url = postgres_databases.create()
    target_key = Fernet.generate_key().decode()
    copied = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentstatus",
            "db",
            "copy",
            "--from",
            source_url,
            "--to",
            pg_url,
            "--org",
            "acme",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "AGENTSTATUS_SECRET_KEY": target_key},
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    assert "history" in copied.stdout
    target = open_database(pg_url)
    assert snapshot_of(target, "acme") == before
    assert tokens.verify_token(target, token) is not None
    with target.connect() as conn:
        sealed = conn.execute(webhook_endpoints.select()).one().secret_enc
    assert SecretBox(target_key).open(sealed) == endpoint.secret
    # Only the organisation asked for: "other" stayed behind.
    assert [o.name for o in list_organisations(target)] == ["acme"]
    assert other.name in {o.name for o in list_organisations(source)}

    # A status change on the copy continues the same history.
    drive(pg_url, org, [("103", "sip4", 1)])

    back_url = f"sqlite:///{tmp_path / 'back.db'}"
    back = open_database(back_url)
    report = copy_organisations(target, back, None, lambda s: s)
    assert report.counts["history"] == len(before[1]) + 1
    assert snapshot_of(back, "acme") == snapshot_of(target, "acme")
    for engine in (source, target, back):
        engine.dispose()


def test_copy_refuses_a_name_already_in_the_target(tmp_path: Path) -> None:
    a = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    b = open_database(f"sqlite:///{tmp_path / 'b.db'}")
    make_org(a, name="same")
    make_org(b, name="same")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentstatus",
            "db",
            "copy",
            "--from",
            f"sqlite:///{tmp_path / 'a.db'}",
            "--to",
            f"sqlite:///{tmp_path / 'b.db'}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: already in the target database: same"
    assert "Traceback" not in result.stderr
    a.dispose()
    b.dispose()


def test_copy_refuses_an_organisation_missing_from_the_source(tmp_path: Path) -> None:
    source_url, target_url = (f"sqlite:///{tmp_path / n}" for n in ("a.db", "b.db"))
    source, target = open_database(source_url), open_database(target_url)
    make_org(source, name="here")
    with pytest.raises(NotInSource, match="not in the source database: gone"):
        copy_organisations(source, target, ["here", "gone"], lambda s: s)
    assert list_organisations(target) == []
    done = run_cli(None, "db", "copy", "--from", source_url, "--to", target_url, "--org", "gone")
    assert (done.code, done.stderr) == (1, "error: not in the source database: gone\n")
    source.dispose()
    target.dispose()


def test_copy_refuses_in_process_with_its_own_error(tmp_path: Path) -> None:
    a = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    b = open_database(f"sqlite:///{tmp_path / 'b.db'}")
    make_org(a, name="same")
    make_org(a, name="new")
    make_org(b, name="same")
    with pytest.raises(AlreadyInTarget, match="already in the target database: same"):
        copy_organisations(a, b, None, lambda s: s)
    assert [o.name for o in list_organisations(b)] == ["same"]
    a.dispose()
    b.dispose()


def test_copy_takes_the_queues_settings_and_days_not_the_callers_waiting(
    tmp_path: Path,
) -> None:
    """queue_settings renumbered (GetQueuesCallers' ID), queue_days as they are, the
    queue.caller_* events (of no agent) with the history; queue_callers is live, as calls."""
    source = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    target = open_database(f"sqlite:///{tmp_path / 'b.db'}")
    now = 1_796_590_237_000
    make_org(source, name="acme")
    write_callers(
        source,
        "acme",
        [
            joined("support", "c1", "0501", now - 9_000),
            joined("support", "c2", "", now - 5_000),
            ended(CallerChange.ANSWERED, "support", "c1", "0501", now, user_id="101"),
        ],
    )
    set_queue(source, "acme", "support", 45, 3)
    make_org(target, name="there")
    write_callers(target, "there", [joined("sales", "x", "", now)])  # takes queue id 1
    report = copy_organisations(source, target, ["acme"], lambda s: s)
    assert (report.counts["queue_settings"], report.counts["queue_days"]) == (1, 1)
    assert "queue_callers" not in report.counts
    (before,) = queues_now(source, "acme", now)
    (after,) = queues_now(target, "acme", now)
    assert after.settings.id != before.settings.id  # renumbered past the target's own
    assert (after.settings.name, after.settings.service_level_seconds) == ("support", 45)
    assert after.settings.weight == 3
    assert after.today == before.today
    assert (after.today.offered, after.today.answered) == (2, 1)
    assert after.waiting == ()  # live: the new connection reads them again
    kinds = [e.type for e in read_history(target, "acme").events]
    assert kinds == ["queue.caller_joined", "queue.caller_joined", "queue.caller_answered"]
    source.dispose()
    target.dispose()
