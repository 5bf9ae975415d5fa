"""``storage.organisations`` on each engine: lookups, the settings kept on the row, and a
taken code refused by the database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from agentstatus.storage import agents, extensions, organisations
from tests.storage.conftest import Tenant


def test_lookups_by_name_and_code(tenant: Tenant) -> None:
    with tenant.engine.begin() as conn:
        assert organisations.find_id(conn, "acme") == tenant.oid
        assert organisations.find_id(conn, "nobody") is None
        assert organisations.find_id_by_code_hash(conn, "acme-code") == tenant.oid
        assert organisations.find_id_by_code_hash(conn, "other") is None


def test_a_taken_code_is_refused(tenant: Tenant) -> None:
    with tenant.engine.begin() as conn:
        other = organisations.insert_organisation(conn, "beta", "beta-code", 2_000)
    with pytest.raises(IntegrityError), tenant.engine.begin() as conn:
        organisations.set_code_hash(conn, other, "acme-code")
    with pytest.raises(IntegrityError), tenant.engine.begin() as conn:
        organisations.insert_organisation(conn, "gamma", "acme-code", 3_000)


def test_settings_round_trip(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        organisations.lock(conn, oid)
        organisations.set_allowlist(conn, oid, '["10.0.0.0/8"]')
        organisations.set_embed_origins(conn, oid, '["https://crm.example.com"]')
        organisations.set_timezone(conn, oid, "Asia/Jerusalem")
        organisations.set_shift_end(conn, oid, "18:30", "mon,tue")
    with tenant.engine.connect() as conn:
        assert organisations.embed_origins(conn, oid) == '["https://crm.example.com"]'
        assert organisations.timezone(conn, oid) == "Asia/Jerusalem"
        assert organisations.shift_end(conn, oid) == ("18:30", "mon,tue")
    with tenant.engine.begin() as conn:
        organisations.set_shift_end(conn, oid, None, None)
        organisations.set_embed_origins(conn, oid, None)
        assert organisations.shift_end(conn, oid) is None
        assert organisations.embed_origins(conn, oid) is None


def test_summaries_count_agents_and_extensions(tenant: Tenant) -> None:
    with tenant.engine.begin() as conn:
        organisations.insert_organisation(conn, "beta", "beta-code", 2_000)
        agents.insert_agent(conn, tenant.oid, "alice", "Alice", 5_000)
        agents.insert_agent(conn, tenant.oid, "bob", "Bob", 5_000)
        extensions.insert_extension(conn, tenant.oid, "101", "", 5_000)
        found = [
            (r.name, r.agents, r.extensions, r.created_ms) for r in organisations.summaries(conn)
        ]
    assert found == [("acme", 2, 1, 1_000), ("beta", 0, 0, 2_000)]
