"""Setting the policies, and planning their deadlines in the same transaction.

- A status's **limit**: setting, changing or clearing it re-plans every agent already in
  that status (their deadline is their ``since`` plus the new limit). An agent entering the
  status later gets its deadline from the change path, in the change's own transaction
  (storage's ``WriteChange.deadline_ms``).
- The organisation's **end of the shift**: one deadline, its next occurrence; re-planned
  when it is set, when the time zone changes, and after it has acted.

``service/deadlines.py`` acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.domain.policies import (
    EVERY_DAY,
    WEEKDAYS,
    Limit,
    LimitAction,
    ShiftEnd,
    check_limit,
    parse_shift_end,
)
from agentstatus.service import validation
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.shift_plan import replan_shift, shift_of
from agentstatus.service.statuses import Status, fetch_status
from agentstatus.service.timezones import timezone_of
from agentstatus.storage import organisations, policies, statuses
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


def set_limit(engine: Engine, org: str, sid: int, limit: Limit | None) -> Status:
    """Set (or with None clear) the limit of status ``sid``, and re-plan the agents in it:
    with a new limit, an agent already past it is acted on at once; except that a limit
    that warns does not warn again an agent already warned since it entered the status
    (changing the value is not a new stint). The warnings made due at once are written in
    chunks (``service/deadlines.py``)."""
    validation.status_id(sid)
    if limit is not None:
        try:
            check_limit(sid, limit.seconds)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    with engine.begin() as conn:
        oid = org_id(conn, org)
        current = fetch_status(conn, oid, sid)
        unchanged = (current.limit_seconds, current.limit_action) == (
            (None, None) if limit is None else (limit.seconds, limit.action.value)
        )
        if unchanged:
            # Saving the same limit again must not plan again what has acted already.
            return current
        statuses.update_status(
            conn,
            oid,
            sid,
            {
                "limit_seconds": None if limit is None else limit.seconds,
                "limit_action": None if limit is None else limit.action.value,
            },
        )
        policies.replan_limit(
            conn,
            oid,
            sid,
            None if limit is None else limit.seconds,
            spare_warned=limit is not None and limit.action is LimitAction.WARN,
        )
        return fetch_status(conn, oid, sid)


def parse_limit(seconds: int, then: str | None) -> Limit:
    try:
        action = LimitAction(then or LimitAction.WARN.value)
    except ValueError:
        raise InvalidInput(
            f"what happens at the limit is one of warn, login, logout, not {then!r}"
        ) from None
    return Limit(seconds, action)


@dataclass(frozen=True, slots=True)
class ShiftSetting:
    shift: ShiftEnd | None
    next_ms: int | None
    """When it next acts; None without a shift end."""


def set_shift_end(
    engine: Engine, org: str, time: str | None, days: str | None = None
) -> ShiftSetting:
    """Set the end of the shift (``HH:MM`` in the organisation's zone, on ``days``, default
    every day), or with ``time`` None turn it off."""
    shift = None
    if time is not None:
        try:
            shift = parse_shift_end(time, days)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    elif days is not None:
        raise InvalidInput("days are for a shift end; give the time too")
    with engine.begin() as conn:
        oid = org_id(conn, org)
        organisations.set_shift_end(
            conn,
            oid,
            None if shift is None else shift.time,
            None
            if shift is None or shift.days == EVERY_DAY
            else ",".join(WEEKDAYS[d] for d in sorted(shift.days)),
        )
        due = replan_shift(conn, oid, now_ms(), timezone_of(conn, oid))
    return ShiftSetting(shift, due)


def get_shift_end(engine: Engine, org: str) -> ShiftSetting:
    with reading(engine) as conn:
        oid = org_id(conn, org)
        shift = shift_of(conn, oid)
        due = policies.shift_due(conn, oid)
    return ShiftSetting(shift, due)
