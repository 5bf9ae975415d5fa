"""``storage.policies`` on each engine: the limit's deadlines (one per agent in the
status, sparing those warned in this stint when asked) and the one shift deadline."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from agentstatus.domain.event_types import OVERDUE_EVENT, WARN_POLICY
from agentstatus.storage import agents, policies
from agentstatus.storage.schema import deadlines, history, presence
from tests.storage.conftest import Tenant

BREAK = 3


def _in_break(conn: Connection, oid: int, user_id: str, since_ms: int) -> int:
    agents.insert_agent(conn, oid, user_id, user_id, 0)
    aid = agents.find_id(conn, oid, user_id)
    assert aid is not None
    conn.execute(
        update(presence).where(presence.c.agent_id == aid).values(status=BREAK, since_ms=since_ms)
    )
    return aid


def _limit_deadlines(conn: Connection, oid: int) -> dict[int, int]:
    query = select(deadlines.c.agent_id, deadlines.c.due_ms).where(
        deadlines.c.org_id == oid, deadlines.c.kind == policies.LIMIT
    )
    return {int(a): int(d) for a, d in conn.execute(query)}


def test_a_limit_plans_the_agents_in_the_status(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        alice = _in_break(conn, oid, "alice", 10_000)
        bob = _in_break(conn, oid, "bob", 20_000)
        conn.execute(
            insert(history).values(
                org_id=oid,
                agent_id=bob,
                user_id="bob",
                prev_status=BREAK,
                new_status=BREAK,
                at_ms=25_000,
                source="policy",
                policy=WARN_POLICY,
                kind=OVERDUE_EVENT,
            )
        )
        policies.replan_limit(conn, oid, BREAK, 60, spare_warned=False)
        assert _limit_deadlines(conn, oid) == {alice: 70_000, bob: 80_000}
        policies.replan_limit(conn, oid, BREAK, 120, spare_warned=True)
        assert _limit_deadlines(conn, oid) == {alice: 130_000}
        policies.replan_limit(conn, oid, BREAK, None, spare_warned=False)
        assert _limit_deadlines(conn, oid) == {}


def test_one_shift_deadline(tenant: Tenant) -> None:
    oid = tenant.oid
    with tenant.engine.begin() as conn:
        assert policies.shift_due(conn, oid) is None
        policies.insert_shift_deadline(conn, oid, 50_000)
        assert policies.shift_due(conn, oid) == 50_000
        policies.delete_shift_deadline(conn, oid)
        assert policies.shift_due(conn, oid) is None
