"""Missed calls (SPEC 8): the organisation's rule, and what a call that rang out
unanswered does.

Every missed call the phone system reports for a logged-in agent is recorded as an
``agent.missed_call`` event (statuses unchanged; the count in a row, the queue and how long
it rang in its detail), whether the rule is on or not: reports count missed calls per agent
and day. With the rule on, the missed call that reaches its count while the agent is in a
status that takes calls moves the agent to the rule's status through the one change path
(source ``pbx``, reason ``missed-calls``); the phone system is then told as for any change
(paused, the status's name as the reason). Any change and any answered call start the
count again (``storage/missed_calls.py`` says where it lives).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import MISSED_CALL_EVENT, MISSED_CALLS_REASON
from agentstatus.domain.missed_calls import (
    DEFAULT_STATUS,
    MissedCallsRule,
    MissedOffer,
    check_rule,
    moves_to,
)
from agentstatus.service import validation
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import missed_calls, statuses
from agentstatus.storage.database import reading
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.types import Engine
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)


def get_rule(engine: Engine, org: str) -> MissedCallsRule | None:
    """Organisation ``org``'s rule; None: off."""
    with reading(engine) as conn:
        return missed_calls.rule_of(conn, org_id(conn, org))


def set_rule(engine: Engine, org: str, count: int, status: int | None = None) -> MissedCallsRule:
    """After ``count`` missed calls in a row, ``status`` (default 9, Other): an enabled
    status that takes no calls, not Logout."""
    sid = DEFAULT_STATUS if status is None else status
    validation.status_id(sid)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        row = statuses.find(conn, oid, sid)
        if row is None:
            raise InvalidInput(f"no status {sid} in this organisation")
        try:
            check_rule(
                count, sid, enabled=bool(row.enabled), available=bool(row.available), name=row.name
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        rule = MissedCallsRule(count, sid)
        missed_calls.set_rule(conn, oid, rule)
    return rule


def clear_rule(engine: Engine, org: str) -> None:
    """Turn the rule off (missed calls are still recorded)."""
    with engine.begin() as conn:
        missed_calls.set_rule(conn, org_id(conn, org), None)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A missed call recorded, and the change it calls for (``move_to``), if any."""

    count: int
    extension: str
    version: int
    move_to: int | None


def record_missed(engine: Engine, oid: int, user_id: str, offer: MissedOffer) -> Recorded | None:
    """Append the missed call to the history (None when the agent is not logged in) and
    say whether the rule moves the agent."""
    with engine.begin() as conn:
        agent = missed_calls.lock_agent(conn, oid, user_id)
        if agent is None:
            return None
        count = missed_calls.missed_in_a_row(conn, oid, agent.agent_id, agent.since_ms) + 1
        append_event(
            conn,
            standing(
                org_id=oid,
                agent_id=agent.agent_id,
                user_id=user_id,
                extension=agent.extension,
                status=agent.status,
                at_ms=now_ms(),
                source=Source.PBX.value,
                kind=MISSED_CALL_EVENT,
                detail=orjson.dumps(offer.detail(count)).decode(),
            ),
        )
        rule = missed_calls.rule_of(conn, oid)
        move_to = moves_to(rule, count, agent.status, agent.takes_calls)
    return Recorded(count, agent.extension, agent.version, move_to)


async def missed_call(
    engine: Engine,
    changes: StatusChanges,
    announce: Callable[[int], None],
    oid: int,
    user_id: str,
    offer: MissedOffer,
) -> Recorded | None:
    """Record a missed call of agent ``user_id`` and, when the rule says so, move the agent
    (only if nothing changed it since the count was read: a change resets the count)."""
    recorded = await asyncio.to_thread(record_missed, engine, oid, user_id, offer)
    if recorded is None:
        return None
    announce(oid)  # the event is for the streams and webhooks at once
    if recorded.move_to is not None:
        result = await changes.apply(
            StatusCommand(
                user_id,
                recorded.extension,
                recorded.move_to,
                Source.PBX,
                org_id=oid,
                expected_version=recorded.version,
                reason=MISSED_CALLS_REASON,
            )
        )
        if result.row is not Row.OK:
            log.warning(
                "missed calls of %s in organisation %d: the change to %d was refused (%s)",
                user_id,
                oid,
                recorded.move_to,
                result.row.name,
            )
    return recorded
