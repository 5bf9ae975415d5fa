"""The missed-calls rule of each organisation (``missed_calls``), and the count of calls an
agent missed in a row.

**Where the count lives: in the history.** Every missed call is an ``agent.missed_call``
row, every answered call a ``call.answered`` row, every status change a change row, all
appended to the one event log. The count is therefore *the ``agent.missed_call`` rows after
the agent's latest change or answered call*, read when a missed call is recorded, in the
same transaction, with the agent's presence row locked. Nothing else holds it, so nothing
can disagree: two instances sharing the database count the same rows (the presence lock
orders a missed call after any change or call event of the same agent, on either engine),
and a restart loses nothing because the rows are durable. A counter column would have to
be reset by every writer of a change (the status path, both engines' own statements) and
of an answered call; reading the log keeps those writers untouched.

The read stays small: a change resets the count and sets ``presence.since_ms``, so only the
agent's rows since then are read (``ix_history_org_agent_at``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, or_, select

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.event_types import CALL_ANSWERED, CHANGE_KINDS, MISSED_CALL_EVENT
from agentstatus.domain.missed_calls import MissedCallsRule
from agentstatus.storage.schema import agents, extensions, history, missed_calls, presence, statuses


def rule_of(conn: Connection, oid: int) -> MissedCallsRule | None:
    r = conn.execute(
        select(missed_calls.c.calls, missed_calls.c.status).where(missed_calls.c.org_id == oid)
    ).first()
    return None if r is None else MissedCallsRule(int(r.calls), int(r.status))


def set_rule(conn: Connection, oid: int, rule: MissedCallsRule | None) -> None:
    """Replace the organisation's rule (None: off)."""
    conn.execute(delete(missed_calls).where(missed_calls.c.org_id == oid))
    if rule is not None:
        conn.execute(insert(missed_calls).values(org_id=oid, calls=rule.count, status=rule.status))


@dataclass(frozen=True, slots=True)
class OfferedAgent:
    """An agent a call was offered to, as its presence row says (locked)."""

    agent_id: int
    extension: str
    status: int
    version: int
    since_ms: int
    takes_calls: bool


def lock_agent(conn: Connection, oid: int, user_id: str) -> OfferedAgent | None:
    """Agent ``user_id`` logged in at an extension, its presence row locked until the
    caller's transaction ends (no change slips between the count and the event)."""
    r = conn.execute(
        select(
            presence.c.agent_id,
            presence.c.status,
            presence.c.version,
            presence.c.since_ms,
            extensions.c.sip,
            statuses.c.available,
        )
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id)
            .join(extensions, extensions.c.id == presence.c.extension_id)
            .outerjoin(
                statuses,
                (statuses.c.org_id == presence.c.org_id)
                & (statuses.c.status_id == presence.c.status),
            )
        )
        .where(presence.c.org_id == oid, agents.c.user_id == user_id, presence.c.status != LOGOUT)
        .with_for_update(of=presence)
    ).first()
    if r is None:
        return None
    status = int(r.status)
    return OfferedAgent(
        int(r.agent_id),
        r.sip,
        status,
        int(r.version),
        int(r.since_ms),
        bool(r.available) or status == LOGIN,
    )


def missed_in_a_row(conn: Connection, oid: int, agent_id: int, since_ms: int) -> int:
    """The agent's missed calls after its latest change or answered call (see the module's
    docstring); only rows since ``since_ms``, its presence's latest change, can count."""
    mine = (
        (history.c.org_id == oid) & (history.c.agent_id == agent_id) & (history.c.at_ms >= since_ms)
    )
    reset = (
        select(func.coalesce(func.max(history.c.id), 0))
        .where(mine, or_(history.c.kind.in_(CHANGE_KINDS), history.c.kind == CALL_ANSWERED))
        .scalar_subquery()
    )
    counted = select(func.count()).where(
        mine, history.c.kind == MISSED_CALL_EVENT, history.c.id > reset
    )
    return int(conn.execute(counted).scalar_one())
