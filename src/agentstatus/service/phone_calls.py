"""The live calls of an organisation's extensions and their events in the history, as the
phone-system link reports them (the calls are kept in ``storage.phone_calls``; each event is
appended to the event log when an agent is logged in at the call's extension)."""

from __future__ import annotations

import orjson

from agentstatus.domain.calls import Call, Changed
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import call_kind, call_policy
from agentstatus.service.organisations import org_id
from agentstatus.storage import phone_calls
from agentstatus.storage.database import reading
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.types import Connection, Engine


def _call_event(conn: Connection, oid: int, changed: Changed, at: int) -> int | None:
    """The call's event in the history, when an agent is logged in at its extension."""
    call = changed.call
    agent = phone_calls.agent_on_call(conn, oid, call.extension)
    if agent is None:
        return None
    return append_event(
        conn,
        standing(
            org_id=oid,
            agent_id=agent.agent_id,
            user_id=agent.user_id,
            extension=call.extension,
            status=agent.status,
            at_ms=at,
            source=Source.PBX.value,
            kind=call_kind(changed.change.value),
            policy=call_policy(changed.change.value),
            call=orjson.dumps(call.as_json()).decode(),
        ),
    )


def store_calls(engine: Engine, oid: int, changes: list[Changed], at_ms: int | None = None) -> bool:
    """Keep the live calls and write their events; True when an event was written.
    ``at_ms``: when they happened, for events recorded after the fact (the demo's day);
    else now."""
    at = now_ms() if at_ms is None else at_ms
    with engine.begin() as conn:
        return keep_calls(conn, oid, changes, at)


def keep_calls(conn: Connection, oid: int, changes: list[Changed], at: int) -> bool:
    """:func:`store_calls` in the caller's transaction."""
    wrote = False
    for changed in changes:
        phone_calls.keep(conn, oid, changed.change, changed.call)
        wrote = _call_event(conn, oid, changed, at) is not None or wrote
    return wrote


def clear_calls(engine: Engine, oid: int) -> None:
    with engine.begin() as conn:
        phone_calls.clear(conn, oid)


def calls_by_extension(conn: Connection, oid: int) -> dict[str, list[Call]]:
    """The organisation's live calls by extension, oldest first."""
    return phone_calls.by_extension(conn, oid)


def calls_of_org(engine: Engine, org: str) -> dict[str, list[Call]]:
    """The live calls of organisation ``org`` (by name), by extension."""
    with reading(engine) as conn:
        return phone_calls.by_extension(conn, org_id(conn, org))
