"""The compact snapshot frame is exactly what ``fastapi.sse.format_sse_event`` writes for
the snapshot's JSON, whole and cut for a panel."""

from __future__ import annotations

import orjson
from fastapi.sse import format_sse_event

from agentstatus.events.snapshot_frame import SnapshotBuilder
from agentstatus.service.presence import AgentPresence

AGENTS = [
    AgentPresence("101", 'Ann \u2028 "quoted"\nnext', "sip1", 1, "Login", 1_000),
    AgentPresence("102", "Bob", None, 2, None, 2_000),
    AgentPresence("103", "Cy\r\x00", "sip3", 7, "Private break", 3_000),
]


def expected(org: str, agents: list[AgentPresence], cursor: int) -> bytes:
    data = orjson.dumps({"org": org, "agents": [a.as_json() for a in agents]}).decode()
    return format_sse_event(data_str=data, event="snapshot", id=str(cursor))


def test_the_frame_is_the_formatted_event() -> None:
    builder = SnapshotBuilder("acme")
    for agent in AGENTS:
        builder.add(agent)
    frame = builder.finish(42)
    assert frame.frame == expected("acme", AGENTS, 42)
    assert frame.agents == 3
    frame.index()
    assert frame.for_users({"103", "101", "999"}) == expected("acme", [AGENTS[0], AGENTS[2]], 42)
    assert frame.for_users({"999"}) == expected("acme", [], 42)


def test_an_empty_organisation() -> None:
    frame = SnapshotBuilder("empty").finish(0)
    assert frame.frame == expected("empty", [], 0)
    frame.index()
    assert frame.for_users({"1"}) == expected("empty", [], 0)
