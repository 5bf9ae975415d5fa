"""``storage.statuses`` on each engine."""

from __future__ import annotations

from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.storage import statuses
from tests.storage.conftest import Tenant


def test_catalogue_add_update_and_read(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        assert [r.status_id for r in statuses.rows(conn, oid)] == [s.id for s in DEFAULT_CATALOGUE]
        assert not statuses.exists(conn, oid, 20)
        statuses.insert_status(conn, oid, 20, "Coaching", "#123456", available=True)
        assert statuses.exists(conn, oid, 20)
        statuses.update_status(conn, oid, 20, {"enabled": False, "limit_seconds": 600})
        row = statuses.find(conn, oid, 20)
        assert row is not None
        assert (row.name, row.color, bool(row.available), bool(row.enabled)) == (
            "Coaching",
            "#123456",
            True,
            False,
        )
        assert row.limit_seconds == 600
        assert statuses.find(conn, oid, 21) is None
        enabled = [r.status_id for r in statuses.rows(conn, oid, enabled_only=True)]
    assert 20 not in enabled
    assert enabled == [s.id for s in DEFAULT_CATALOGUE if s.enabled]
