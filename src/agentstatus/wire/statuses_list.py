"""The answer of ``GetStatusesList`` (SPEC.md section 4): the organisation's enabled
statuses. Its refusals are rows of the outcomes table.

The field names are part of the exposed HTTP API; don't rename them.
"""

from __future__ import annotations

STATUSES = "Statuses"
ID = "ID"
NAME = "Name"
COLOR = "Color"


def status(status_id: int, name: str, color: str | None) -> dict[str, object]:
    return {ID: status_id, NAME: name, COLOR: color}


def statuses(listing: list[dict[str, object]]) -> dict[str, object]:
    return {STATUSES: listing}
