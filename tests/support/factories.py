"""Small factories that build real organisations, agents and extensions in a database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import Engine

from agentstatus.service import agents, extensions, organisations

_counter = itertools.count(1)


@dataclass
class OrgFixture:
    name: str
    code: str
    agents: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)


def make_org(
    engine: Engine,
    *,
    agent_count: int = 3,
    extension_count: int = 3,
    name: str | None = None,
) -> OrgFixture:
    n = next(_counter)
    org_name = name or f"org{n}"
    created = organisations.create_organisation(engine, org_name)
    org = OrgFixture(org_name, created.code)
    for i in range(1, agent_count + 1):
        user_id = f"{100 + i}"
        agents.add_agent(engine, org_name, user_id, f"Agent {i}")
        org.agents.append(user_id)
    for i in range(1, extension_count + 1):
        sip = f"sip{i}"
        extensions.add_extension(engine, org_name, sip, f"Desk {i}")
        org.extensions.append(sip)
    return org
