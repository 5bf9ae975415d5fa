"""``storage.panel_links`` on each engine: grants, the valid links, revocation."""

from __future__ import annotations

from agentstatus.storage import agents, panel_links
from tests.storage.conftest import Tenant


def test_links_grant_list_and_revoke(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        agents.insert_agent(conn, oid, "alice", "Alice", 1_000)
        agents.insert_agent(conn, oid, "bob", "Bob", 1_000)
        alice = agents.find_id(conn, oid, "alice")
        bob = agents.find_id(conn, oid, "bob")
        assert alice is not None
        assert bob is not None
        one = panel_links.insert_link(conn, "t1", oid, alice, "101", 1_000, 10_000)
        two = panel_links.insert_link(conn, "t2", oid, alice, None, 2_000, 20_000)
        three = panel_links.insert_link(conn, "t3", oid, bob, None, 2_000, 20_000)
        grant = panel_links.find_grant(conn, "t1")
        assert grant is not None
        assert (grant.org, grant.user_id, grant.extension, bool(grant.active)) == (
            "acme",
            "alice",
            "101",
            True,
        )
        assert panel_links.find_grant(conn, "t4") is None
        assert [r.id for r in panel_links.valid_rows(conn, oid, 5_000)] == [one, two, three]
        assert [r.id for r in panel_links.valid_rows(conn, oid, 15_000, alice)] == [two]
        assert panel_links.valid_among(conn, {one, two, three}, 15_000) == {two, three}
        assert panel_links.revoke(conn, oid, three)
        assert not panel_links.revoke(conn, oid + 1, two)
        assert panel_links.revoke_of_agent(conn, alice) == 2
        assert panel_links.revoke_of_agent(conn, alice) == 0
        assert panel_links.valid_among(conn, {one, two, three}, 5_000) == set()
