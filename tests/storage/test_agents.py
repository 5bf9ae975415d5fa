"""``storage.agents`` and ``storage.presence`` on each engine: an agent is created with its
presence row, imports create or rename, and the deactivation fence bumps the version."""

from __future__ import annotations

from sqlalchemy import select

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.storage import agents, extensions, presence
from agentstatus.storage.schema import presence as presence_table
from tests.storage.conftest import Tenant


def test_an_agent_is_created_logged_out(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        agents.insert_agent(conn, oid, "alice", "Alice", 5_000)
        aid = agents.find_id(conn, oid, "alice")
        assert aid is not None
        assert agents.find_id(conn, oid, "bob") is None
        row = presence.row_of_agent(conn, aid)
    assert row is not None
    assert (row.user_id, row.name, row.sip, row.status, row.since_ms) == (
        "alice",
        "Alice",
        None,
        LOGOUT,
        5_000,
    )
    assert row.status_name == "Logout"


def test_names_activity_and_creation_time(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        agents.insert_agent(conn, oid, "alice", "Alice", 5_000)
        agents.insert_agent(conn, oid, "bob", "Bob", 1_000)
        aid = agents.find_id(conn, oid, "alice")
        assert aid is not None
        agents.set_name(conn, aid, "Alice A.")
        agents.set_active(conn, aid, False)
        assert agents.name_of(conn, aid) == "Alice A."
        assert not agents.is_active(conn, aid)
        assert agents.move_created_back(conn, oid, 2_000) == 1
        everyone = [(r.user_id, bool(r.active)) for r in agents.rows(conn, oid)]
        active = [r.user_id for r in agents.rows(conn, oid, include_inactive=False)]
        assert agents.user_ids(conn, oid) == {"alice", "bob"}
        assert agents.known_user_ids(conn, oid, ["bob", "carol"]) == {"bob"}
        shown = [r.user_id for r in presence.active_rows(conn, oid)]
    assert everyone == [("alice", False), ("bob", True)]
    assert active == ["bob"]
    assert shown == ["bob"]


def test_an_import_batch_creates_and_renames(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        agents.insert_agent(conn, oid, "alice", "Alice", 5_000)
        # "carol" was created by someone else after the import read what was present.
        agents.insert_agent(conn, oid, "carol", "Carol", 5_000)
        counts = agents.import_batch(
            conn, oid, [("alice", "A"), ("bob", "B"), ("carol", "C")], {"alice"}, 6_000
        )
        names = {r.user_id: r.name for r in agents.rows(conn, oid)}
        pages = [r.user_id for r in presence.active_rows(conn, oid, after="alice", limit=1)]
    assert counts == (1, 2)
    assert names == {"alice": "A", "bob": "B", "carol": "C"}
    assert pages == ["bob"]


def test_logged_in_agents_and_the_version_fence(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        agents.insert_agent(conn, oid, "alice", "Alice", 5_000)
        agents.insert_agent(conn, oid, "bob", "Bob", 5_000)
        extensions.insert_extension(conn, oid, "101", "", 5_000)
        ext = extensions.find(conn, oid, "101")
        bob = agents.find_id(conn, oid, "bob")
        assert ext is not None
        assert bob is not None
        conn.execute(
            presence_table.update()
            .where(presence_table.c.agent_id == bob)
            .values(extension_id=ext.id, status=1)
        )
        assert presence.logged_in_user_ids(conn, oid) == ["bob"]
        version = select(presence_table.c.version).where(presence_table.c.agent_id == bob)
        before = conn.execute(version).scalar_one()
        presence.bump_version(conn, bob)
        assert conn.execute(version).scalar_one() == before + 1
