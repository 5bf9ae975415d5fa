"""The phone of each extension as the phone system says it (SPEC.md 8), its events in the
history, and the phone-offline policy with its durable deadlines.

A state that changes is kept (``storage.phone_states``) and, when an agent is logged in at
the extension, written to the history as an ``extension.phone`` event (the agent's status
unchanged, ``detail`` naming the extension and the phone's state). With the policy on, an
agent whose phone is unregistered while in a status that takes calls gets a deadline N
seconds on, at its presence version: a status change since (the version moved on), the
phone registering again (the deadline is deleted) or the policy turned off cancels it.
``service/deadlines.py`` claims it when due, once across instances and restarts, and
:func:`act` moves the agent (source ``pbx``, reason ``phone-offline``).
"""

from __future__ import annotations

import orjson

from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import PHONE_EVENT, PHONE_OFFLINE_REASON, is_change
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.phone_registration import PhoneOffline, PhoneSeen, PhoneState, merged
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.statuses import fetch_status
from agentstatus.storage import phone_states as store
from agentstatus.storage.database import reading
from agentstatus.storage.deadline_plans import Due
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.phone_states import Holder
from agentstatus.storage.types import Connection, Engine
from agentstatus.wire.outcomes import Row

PHONE_POLICY = "phone-offline"
"""The history's policy of a change the phone-offline deadline made."""
MAX_SECONDS = 86_400


def _event(conn: Connection, oid: int, holder: Holder, state: PhoneState, at: int) -> int:
    detail = {"extension": holder.extension, "phone": state.value}
    return append_event(
        conn,
        standing(
            org_id=oid,
            agent_id=holder.agent_id,
            user_id=holder.user_id,
            extension=holder.extension,
            status=holder.status,
            at_ms=at,
            source=Source.PBX.value,
            kind=PHONE_EVENT,
            detail=orjson.dumps(detail).decode(),
        ),
    )


def _plan(
    conn: Connection, oid: int, holder: Holder, offline: PhoneOffline | None, at: int
) -> None:
    """The agent's deadline as things are now: one when its phone is unregistered while it
    takes calls and the policy is on, else none."""
    takes = holder.available and holder.active and holder.phone is PhoneState.UNREGISTERED
    if offline is not None and takes:
        store.plan_deadline(conn, oid, holder, at + offline.seconds * 1000)
    else:
        store.forget_deadlines(conn, oid, [holder.agent_id])


def store_phones(engine: Engine, oid: int, seen: list[PhoneSeen], at_ms: int | None = None) -> bool:
    """Keep what the phone system said of its phones; True when an event was written."""
    at = now_ms() if at_ms is None else at_ms
    wrote = False
    with engine.begin() as conn:
        offline = store.policy(conn, oid)
        known = store.known(conn, oid)
        for sip, state in merged(seen).items():
            ext_id, now = known.get(sip, (None, state))
            if ext_id is None or now is state:
                continue  # not an extension of the organisation's, or no change
            store.record(conn, oid, ext_id, now, state, at)
            holder = store.holder_of(conn, oid, sip)
            if holder is None:
                continue  # nobody at the extension: the state only
            _event(conn, oid, holder, state, at)
            wrote = True
            _plan(conn, oid, holder, offline, at)
    return wrote


def plan_after_changes(engine: Engine, oid: int, events: list[HistoryEvent]) -> None:
    """After status changes: an agent that now takes calls with its phone unregistered
    gets its deadline from now (the change moved its version on, so an older one is
    void); one that no longer does loses it. Nothing while the policy is off."""
    users = {e.user_id for e in events if is_change(e.kind)}
    if not users:
        return
    with reading(engine) as conn:  # off (most organisations): no write lock taken
        if store.policy(conn, oid) is None:
            return
    with engine.begin() as conn:
        offline = store.policy(conn, oid)
        if offline is None:
            return
        at = now_ms()
        for holder in store.holders(conn, oid, users):
            _plan(conn, oid, holder, offline, at)


def phones_by_extension(conn: Connection, oid: int) -> dict[str, PhoneState]:
    """The known phone states by extension (an extension not in it: unknown)."""
    return store.states_by_sip(conn, oid)


def phones_of_org(engine: Engine, org: str) -> dict[str, PhoneState]:
    with reading(engine) as conn:
        return store.states_by_sip(conn, org_id(conn, org))


# -- the policy


def get_phone_offline(engine: Engine, org: str) -> PhoneOffline | None:
    with reading(engine) as conn:
        return store.policy(conn, org_id(conn, org))


def set_phone_offline(engine: Engine, org: str, seconds: int, status: int) -> PhoneOffline:
    """Turn the policy on (or change it): the agents whose phone is unregistered while
    they take calls now are planned from now, not from when their phone went."""
    if not 1 <= seconds <= MAX_SECONDS:
        raise InvalidInput(f"seconds must be from 1 to {MAX_SECONDS}")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        target = fetch_status(conn, oid, status)
        if target.available or not target.enabled:
            raise InvalidInput(
                f"status {status} must be enabled and take no calls (an agent whose phone "
                "is offline must not be offered calls)"
            )
        found = PhoneOffline(seconds, status)
        store.set_policy(conn, oid, found)
        store.forget_deadlines(conn, oid)
        at = now_ms()
        for holder in store.holders(conn, oid):
            _plan(conn, oid, holder, found, at)
    return found


def clear_phone_offline(engine: Engine, org: str) -> None:
    with engine.begin() as conn:
        oid = org_id(conn, org)
        store.set_policy(conn, oid, None)
        store.forget_deadlines(conn, oid)


# -- acting on a deadline


def _current(engine: Engine, d: Due) -> tuple[Holder, PhoneOffline] | None:
    """The agent of a deadline and the policy, when the deadline still applies."""
    assert d.agent_id is not None
    with reading(engine) as conn:
        holder = store.holder_agent(conn, d.agent_id)
        offline = store.policy(conn, d.org_id)
    if holder is None or offline is None or holder.version != d.version:
        return None
    if not (holder.active and holder.available and holder.phone is PhoneState.UNREGISTERED):
        return None
    return holder, offline


async def act(changes: StatusChanges, engine: Engine, d: Due) -> bool:
    """Move the agent of a due deadline, if it still applies; False when the change could
    not be made for now (the claim is given back and the next round tries again)."""
    found = _current(engine, d)
    if found is None:
        return True  # overtaken: nothing to do
    holder, offline = found
    result = await changes.apply(
        StatusCommand(
            holder.user_id,
            holder.extension,
            offline.status,
            Source.PBX,
            org_id=d.org_id,
            expected_version=d.version,
            policy=PHONE_POLICY,
            due_ms=d.due_ms,
            reason=PHONE_OFFLINE_REASON,
        )
    )
    return result.row is not Row.UPDATE_FAILED
