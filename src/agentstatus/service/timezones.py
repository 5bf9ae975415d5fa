"""Each organisation's time zone: the web's dates, an agent's day and the day boundaries
of its reports are in it."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from agentstatus.domain.clock import now_ms
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.shift_plan import replan_shift
from agentstatus.storage import organisations
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine

DEFAULT_ZONE = "UTC"
# In the system's zone database but no place's time: ``localtime`` is whatever the host
# is set to (a link, different on each server), ``Factory`` a placeholder ("-00"), and
# ``posixrules`` the default rules file.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_ZONES


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``Asia/Jerusalem``), or InvalidInput."""
    name = name.strip()
    if name not in _known():
        raise InvalidInput(f"unknown time zone {name[:64]!r}: use an IANA name like Asia/Jerusalem")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name[:64]!r}") from None


def set_timezone(engine: Engine, org: str, name: str) -> str:
    """Set the zone; the end of the shift, a local time, is re-planned in it."""
    found = zone(name)
    with engine.begin() as conn:
        oid = org_id(conn, org)
        organisations.set_timezone(conn, oid, found.key)
        replan_shift(conn, oid, now_ms(), found)
    return found.key


def timezone_of(conn: Connection, oid: int) -> ZoneInfo:
    name = organisations.timezone(conn, oid)
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def get_timezone(engine: Engine, org: str) -> ZoneInfo:
    with reading(engine) as conn:
        return timezone_of(conn, org_id(conn, org))
