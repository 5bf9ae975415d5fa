"""What the phone-system link reads and writes in the database: seats from presence, the
connection's record, the live calls and their events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.event_types import call_kind, call_policy
from agentstatus.pbx.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.pbx.config import PbxConfig, PbxKind
from agentstatus.pbx.seats import Seat, Seated, desired_seats, seat_of
from agentstatus.storage.database import reading
from agentstatus.storage.event_log import NewEvent, append_event
from agentstatus.storage.schema import (
    agents,
    extensions,
    pbx_calls,
    pbx_connections,
    pbx_members,
    presence,
    statuses,
)

_SEATED = select(
    agents.c.user_id,
    agents.c.name,
    extensions.c.sip,
    presence.c.status,
    statuses.c.name.label("status_name"),
    statuses.c.available,
).select_from(
    presence.join(agents, agents.c.id == presence.c.agent_id)
    .outerjoin(extensions, extensions.c.id == presence.c.extension_id)
    .outerjoin(
        statuses,
        (statuses.c.org_id == presence.c.org_id) & (statuses.c.status_id == presence.c.status),
    )
)


def _seated(rows: Iterable[Row[Any]]) -> list[Seated]:
    return [
        Seated(
            r.user_id,
            r.name,
            r.sip,
            int(r.status),
            r.status_name or "",
            bool(r.available) or r.status == LOGIN,
        )
        for r in rows
    ]


def org_extensions(engine: Engine, oid: int) -> frozenset[str]:
    with reading(engine) as conn:
        return frozenset(
            conn.execute(select(extensions.c.sip).where(extensions.c.org_id == oid)).scalars()
        )


def all_seats(engine: Engine, config: PbxConfig, oid: int) -> dict[str, Seat]:
    """Every seat of the organisation, as its presence says now."""
    with reading(engine) as conn:
        sips = conn.execute(select(extensions.c.sip).where(extensions.c.org_id == oid)).scalars()
        seated = _seated(conn.execute(_SEATED.where(presence.c.org_id == oid)))
        return desired_seats(config, list(sips), seated)


def seats_for(
    engine: Engine, config: PbxConfig, oid: int, sips: set[str], user_ids: set[str]
) -> list[Seat]:
    """The seats of some extensions (Asterisk) or agents (FreeSWITCH), as presence says now:
    an extension nobody holds any more is an empty seat."""
    with reading(engine) as conn:
        if config.kind is PbxKind.ASTERISK:
            held = _seated(
                conn.execute(
                    _SEATED.where(
                        presence.c.org_id == oid,
                        extensions.c.sip.in_(sips),
                        presence.c.status != LOGOUT,
                    )
                )
            )
            seats = desired_seats(config, sorted(sips), held)
            return list(seats.values())
        found = _seated(
            conn.execute(_SEATED.where(presence.c.org_id == oid, agents.c.user_id.in_(user_ids)))
        )
        return [seat_of(config, agent) for agent in found]


def pause_names(engine: Engine, oid: int) -> dict[str, int]:
    """The statuses a pause reason may name: enabled, taking no calls, not Logout."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(statuses.c.status_id, statuses.c.name).where(
                statuses.c.org_id == oid,
                statuses.c.enabled,
                statuses.c.available.is_(False),
                statuses.c.status_id != LOGOUT,
            )
        ).all()
    return {r.name.strip().casefold(): int(r.status_id) for r in rows}


@dataclass(frozen=True, slots=True)
class AtExtension:
    user_id: str
    status: int
    available: bool


def agent_at(
    engine: Engine, oid: int, *, sip: str | None = None, user_id: str | None = None
) -> tuple[AtExtension, str] | None:
    """The agent logged in at extension ``sip`` (or agent ``user_id`` if logged in), with
    the extension."""
    query = _SEATED.where(presence.c.org_id == oid, presence.c.status != LOGOUT)
    if sip is not None:
        query = query.where(extensions.c.sip == sip)
    else:
        query = query.where(agents.c.user_id == user_id)
    with reading(engine) as conn:
        r = conn.execute(query).first()
    if r is None or r.sip is None:
        return None
    return AtExtension(r.user_id, int(r.status), bool(r.available) or r.status == LOGIN), r.sip


# -- the connection's record (written only while holding the lease)


def record(engine: Engine, oid: int, holder: str, **values: object) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            update(pbx_connections)
            .where(pbx_connections.c.org_id == oid, pbx_connections.c.holder == holder)
            .values(**values)
        )
        return done.rowcount == 1


def count_repairs(engine: Engine, oid: int, holder: str, checked: int, repaired: int) -> None:
    c = pbx_connections.c
    with engine.begin() as conn:
        conn.execute(
            update(pbx_connections)
            .where(c.org_id == oid, c.holder == holder)
            .values(
                reconcile_ms=now_ms(),
                reconcile_checked=checked,
                reconcile_repaired=repaired,
                repaired_total=c.repaired_total + repaired,
            )
        )


def add_commands(engine: Engine, oid: int, holder: str, count: int) -> None:
    c = pbx_connections.c
    with engine.begin() as conn:
        conn.execute(
            update(pbx_connections)
            .where(c.org_id == oid, c.holder == holder)
            .values(commands_total=c.commands_total + count)
        )


# -- the members agentstatus made (Asterisk)


def owned_members(engine: Engine, oid: int, endpoint: str) -> set[tuple[str, str]]:
    """(queue, interface) of the members made at ``endpoint``. Those recorded at another
    phone system (the host changed) are forgotten: they can no longer be reached."""
    m = pbx_members.c
    with engine.begin() as conn:
        conn.execute(delete(pbx_members).where(m.org_id == oid, m.endpoint != endpoint))
        rows = conn.execute(select(m.queue, m.interface).where(m.org_id == oid)).all()
    return {(r.queue, r.interface) for r in rows}


def keep_owned(
    engine: Engine, oid: int, endpoint: str, changes: list[tuple[bool, str, str]]
) -> None:
    """Record members made (True) and removed (False), in the order they happened."""
    m = pbx_members.c
    at = now_ms()
    with engine.begin() as conn:
        for made, queue, interface in changes:
            where = (m.org_id == oid) & (m.queue == queue) & (m.interface == interface)
            conn.execute(delete(pbx_members).where(where))
            if made:
                conn.execute(
                    insert(pbx_members).values(
                        org_id=oid,
                        queue=queue[:80],
                        interface=interface[:256],
                        endpoint=endpoint[:300],
                        made_ms=at,
                    )
                )


# -- live calls


def _call_row(oid: int, call: Call) -> dict[str, object]:
    return {
        "org_id": oid,
        "call_id": call.id[:64],
        "extension": call.extension,
        "direction": call.direction.value,
        "state": call.state.value,
        "caller_name": call.caller_name[:128],
        "caller_number": call.caller_number[:64],
        "dialled": call.dialled[:64],
        "started_ms": call.started_ms,
        "answered_ms": call.answered_ms,
    }


def _call_event(conn: Connection, oid: int, changed: Changed, at: int) -> int | None:
    """The call's event in the history, when an agent is logged in at its extension."""
    call = changed.call
    found = conn.execute(
        select(presence.c.agent_id, presence.c.status, agents.c.user_id)
        .select_from(
            presence.join(agents, agents.c.id == presence.c.agent_id).join(
                extensions, extensions.c.id == presence.c.extension_id
            )
        )
        .where(
            presence.c.org_id == oid,
            extensions.c.sip == call.extension,
            presence.c.status != LOGOUT,
        )
        # The agent's status stays as read until the event is appended.
        .with_for_update(of=presence)
    ).first()
    if found is None:
        return None
    return append_event(
        conn,
        NewEvent(
            org_id=oid,
            agent_id=found.agent_id,
            user_id=found.user_id,
            prev_extension=call.extension,
            new_extension=call.extension,
            prev_status=found.status,
            new_status=found.status,
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
    wrote = False
    with engine.begin() as conn:
        for changed in changes:
            call = changed.call
            where = (pbx_calls.c.org_id == oid) & (pbx_calls.c.call_id == call.id[:64])
            if changed.change is CallChange.STARTED:
                conn.execute(delete(pbx_calls).where(where))
                conn.execute(insert(pbx_calls).values(**_call_row(oid, call)))
            elif changed.change is CallChange.ENDED:
                conn.execute(delete(pbx_calls).where(where))
            else:
                conn.execute(update(pbx_calls).where(where).values(**_call_row(oid, call)))
            wrote = _call_event(conn, oid, changed, at) is not None or wrote
    return wrote


def clear_calls(engine: Engine, oid: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(pbx_calls).where(pbx_calls.c.org_id == oid))


def calls_by_extension(conn: Connection, oid: int) -> dict[str, list[Call]]:
    """The organisation's live calls by extension, oldest first."""
    rows = conn.execute(
        select(pbx_calls).where(pbx_calls.c.org_id == oid).order_by(pbx_calls.c.started_ms)
    ).all()
    found: dict[str, list[Call]] = {}
    for r in rows:
        found.setdefault(r.extension, []).append(
            Call(
                r.call_id,
                r.extension,
                Direction(r.direction),
                CallState(r.state),
                r.caller_name,
                r.caller_number,
                r.dialled,
                int(r.started_ms),
                r.answered_ms,
            )
        )
    return found


def live_calls(engine: Engine, oid: int) -> dict[str, list[Call]]:
    with reading(engine) as conn:
        return calls_by_extension(conn, oid)


def calls_of_org(engine: Engine, org: str) -> dict[str, list[Call]]:
    """The live calls of organisation ``org`` (by name), by extension."""
    from agentstatus.service.organisations import org_id

    with reading(engine) as conn:
        return calls_by_extension(conn, org_id(conn, org))
