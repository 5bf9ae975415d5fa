"""A large organisation in one transaction (the factories' one-by-one inserts take
seconds for hundreds of agents)."""

from __future__ import annotations

import itertools

from sqlalchemy import Engine, insert, select

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.service.organisations import create_organisation, org_id
from agentstatus.storage.schema import agents, extensions, presence
from tests.support.factories import OrgFixture

_counter = itertools.count(1)


def make_big_org(engine: Engine, size: int) -> OrgFixture:
    """``size`` agents ``a1``… and as many extensions ``e1``…, everybody logged out,
    exactly as the services would leave them (one presence row per agent)."""
    name = f"big{next(_counter)}"
    org = OrgFixture(name, create_organisation(engine, name).code)
    org.agents = [f"a{i}" for i in range(1, size + 1)]
    org.extensions = [f"e{i}" for i in range(1, size + 1)]
    at = now_ms()
    with engine.begin() as conn:
        oid = org_id(conn, name)
        conn.execute(
            insert(agents),
            [
                {"org_id": oid, "user_id": u, "name": u, "active": True, "created_ms": at}
                for u in org.agents
            ],
        )
        conn.execute(
            insert(extensions),
            [{"org_id": oid, "sip": e, "name": e, "created_ms": at} for e in org.extensions],
        )
        ids = conn.execute(select(agents.c.id).where(agents.c.org_id == oid)).scalars().all()
        conn.execute(
            insert(presence),
            [
                {
                    "agent_id": aid,
                    "org_id": oid,
                    "extension_id": None,
                    "status": LOGOUT,
                    "since_ms": at,
                }
                for aid in ids
            ],
        )
    return org
