"""``storage.webhooks`` on each engine: endpoints, test deliveries, their record."""

from __future__ import annotations

from agentstatus.storage import webhooks
from tests.storage.conftest import Tenant


def test_endpoints_and_deliveries(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        first = webhooks.insert_endpoint(conn, oid, "https://a.test/", "sealed", "*", "A", 1)
        second = webhooks.insert_endpoint(conn, oid, "https://b.test/", "sealed", "x", "", 1)
        assert webhooks.endpoint_exists(conn, oid, first)
        assert not webhooks.endpoint_exists(conn, oid + 1, first)
        webhooks.set_enabled(conn, second, False)
        shown = [(r.id, r.url, bool(r.enabled)) for r in webhooks.endpoint_rows(conn, oid)]
        assert shown == [(first, "https://a.test/", True), (second, "https://b.test/", False)]
        one = webhooks.insert_test_delivery(conn, first, "webhook.test", "{}", 5_000)
        two = webhooks.insert_test_delivery(conn, second, "webhook.test", "{}", 6_000)
        newest = webhooks.delivery_rows(conn, oid, endpoint_id=None, state=None, limit=10)
        assert [(r.id, r.state, r.next_attempt_ms) for r in newest] == [
            (two, "pending", 6_000),
            (one, "pending", 5_000),
        ]
        of_first = webhooks.delivery_rows(conn, oid, endpoint_id=first, state="pending", limit=1)
        assert [r.id for r in of_first] == [one]
        assert webhooks.delivery_rows(conn, oid, endpoint_id=None, state="failed", limit=9) == []
        assert webhooks.delivery_counts(conn, oid) == {"pending": 2}
        webhooks.delete_endpoint(conn, second)
        assert [r.id for r in webhooks.endpoint_rows(conn, oid)] == [first]
        assert webhooks.delivery_counts(conn, oid) == {"pending": 1}
