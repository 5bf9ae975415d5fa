"""``storage.extensions`` on each engine: holders, a held extension refused deletion by
the database, imports."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from agentstatus.storage import agents, extensions
from agentstatus.storage.schema import presence
from tests.storage.conftest import Tenant


def test_holders_and_deletion(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        extensions.insert_extension(conn, oid, "101", "Desk", 5_000)
        extensions.insert_extension(conn, oid, "102", "", 5_000)
        agents.insert_agent(conn, oid, "alice", "Alice", 5_000)
        held = extensions.find(conn, oid, "101")
        assert held is not None
        assert held.name == "Desk"
        assert extensions.exists(conn, oid, "102")
        assert not extensions.exists(conn, oid, "103")
        conn.execute(presence.update().values(extension_id=held.id))
        assert extensions.holder(conn, held.id) == "alice"
        listed = [(r.sip, r.name, r.user_id) for r in extensions.rows_with_holders(conn, oid)]
    assert listed == [("101", "Desk", "alice"), ("102", "", None)]
    with pytest.raises(IntegrityError), tenant.engine.begin() as conn:
        extensions.delete_extension(conn, held.id)
    with tenant.engine.begin() as conn:
        free = extensions.find(conn, oid, "102")
        assert free is not None
        assert extensions.holder(conn, free.id) is None
        extensions.delete_extension(conn, free.id)
        assert extensions.sips(conn, oid) == {"101"}


def test_an_import_batch_creates_and_renames(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        extensions.insert_extension(conn, oid, "101", "", 5_000)
        extensions.insert_extension(conn, oid, "103", "", 5_000)  # since the import began
        counts = extensions.import_batch(
            conn, oid, [("101", "A"), ("102", "B"), ("103", "C")], {"101"}, 6_000
        )
        names = {r.sip: r.name for r in extensions.rows_with_holders(conn, oid)}
    assert counts == (1, 2)
    assert names == {"101": "A", "102": "B", "103": "C"}
