"""A snapshot of an organisation's agents and the id of the last event it reflects, for
the event streams' first frame and a board page (read in one consistent snapshot:
``storage.commit_order.consistent_read``)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from agentstatus.service.organisations import org_id as lookup_org_id
from agentstatus.service.presence import AgentPresence, presence_rows
from agentstatus.storage.commit_order import CommitFence, consistent_read
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

T_co = TypeVar("T_co", covariant=True)


class SnapshotSink(Protocol[T_co]):
    """Takes a snapshot's agents as they are read (the streams' frame builder, a page)."""

    def add(self, agent: AgentPresence) -> None: ...

    def finish(self, cursor: int) -> T_co: ...


def snapshot(
    engine: Engine, fence: CommitFence, org: str, into: SnapshotSink[T_co]
) -> tuple[int, T_co]:
    """Every agent's presence and the id of the last event it reflects, read together
    (``consistent_read``), each agent handed to ``into`` as it is read. Neither engine
    holds writers off: a large organisation's snapshot takes a second or two."""
    with reading(engine) as conn:
        oid = lookup_org_id(conn, org)
    with consistent_read(engine, fence, oid) as (conn, cursor):
        for agent in presence_rows(conn, oid):
            into.add(agent)
    return oid, into.finish(cursor)
