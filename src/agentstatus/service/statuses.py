"""The status catalogue of an organisation: names, colours, availability, enablement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentstatus.domain.catalogue import BUILT_IN
from agentstatus.service import validation
from agentstatus.service.errors import AlreadyExists, InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage import statuses
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine, Row

DEFAULT_NEW_COLOR = "#7f8c8d"


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    name: str
    color: str
    available: bool
    enabled: bool
    limit_seconds: int | None = None
    """The longest an agent should stay in it (see service/policies.py); None: no limit."""
    limit_action: str | None = None
    """warn, login or logout, when there is a limit."""

    def as_json(self) -> dict[str, object]:
        """The shape of ``status list --json`` and ``GET /api/v1/orgs/{org}/statuses``."""
        return {
            "id": self.id,
            "name": self.name,
            "color": self.color,
            "available": self.available,
            "enabled": self.enabled,
            "limit_seconds": self.limit_seconds,
            "limit_action": self.limit_action,
        }


def _status(r: Row[Any]) -> Status:
    return Status(
        r.status_id,
        r.name,
        r.color,
        bool(r.available),
        bool(r.enabled),
        r.limit_seconds,
        r.limit_action if r.limit_seconds is not None else None,
    )


def fetch_status(conn: Connection, oid: int, sid: int) -> Status:
    row = statuses.find(conn, oid, sid)
    if row is None:
        raise NotFound(f"no status {sid} in this organisation")
    return _status(row)


def status_rows(conn: Connection, oid: int, *, enabled_only: bool = False) -> list[Status]:
    return [_status(r) for r in statuses.rows(conn, oid, enabled_only=enabled_only)]


def list_statuses(engine: Engine, org: str, *, enabled_only: bool = False) -> list[Status]:
    with reading(engine) as conn:
        return status_rows(conn, org_id(conn, org), enabled_only=enabled_only)


def add_status(
    engine: Engine,
    org: str,
    sid: int,
    name: str,
    *,
    color: str | None = None,
    available: bool = False,
) -> Status:
    validation.status_id(sid)
    clean_name = validation.display_name(name, max_length=128)
    if not clean_name:
        raise InvalidInput("a status needs a name")
    clean_color = validation.color(color) if color is not None else DEFAULT_NEW_COLOR
    with engine.begin() as conn:
        oid = org_id(conn, org)
        if statuses.exists(conn, oid, sid):
            raise AlreadyExists(f"status {sid} already exists in {org!r}")
        statuses.insert_status(conn, oid, sid, clean_name, clean_color, available=available)
    return Status(sid, clean_name, clean_color, available, True)


def update_status(
    engine: Engine,
    org: str,
    sid: int,
    *,
    name: str | None = None,
    color: str | None = None,
    available: bool | None = None,
    enabled: bool | None = None,
) -> Status:
    """Change any of a status's fields; ids 1 and 2 cannot be disabled."""
    validation.status_id(sid)
    values: dict[str, object] = {}
    if name is not None:
        clean_name = validation.display_name(name, max_length=128)
        if not clean_name:
            raise InvalidInput("a status needs a name")
        values["name"] = clean_name
    if color is not None:
        values["color"] = validation.color(color)
    if available is not None:
        values["available"] = available
    if enabled is not None:
        if not enabled and sid in BUILT_IN:
            raise InvalidInput(f"status {sid} is built in and cannot be disabled")
        values["enabled"] = enabled
    with engine.begin() as conn:
        oid = org_id(conn, org)
        fetch_status(conn, oid, sid)
        if values:
            statuses.update_status(conn, oid, sid, values)
        return fetch_status(conn, oid, sid)
