"""Status change requests as the service receives them, and what became of them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.decision import Change
from agentstatus.wire.outcomes import Row


class Source(StrEnum):
    """Where a change came from, as recorded in the history."""

    GET = "GET"
    POST = "POST"
    ADMIN = "admin"
    SYSTEM = "system"
    PANEL = "panel"
    """The agent's own status panel, through a panel link."""
    PBX = "pbx"
    """The phone system: a pause or unpause made at the phone, a call's events, and the
    rules calls drive (wrap-up, missed calls, a phone offline)."""
    SUPERVISOR = "supervisor"
    """A supervisor, from the board, the management API or the CLI, for an agent."""


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """One request to change an agent's status.

    Requests from the wire identify the organisation by ``code_hash`` (and are subject to
    its address allow-list); requests from the management API and the CLI have already
    authenticated and name ``org_id`` directly.
    """

    user_id: str
    extension: str | None
    status: int | None
    source: Source
    client_addr: str | None = None
    code_hash: str | None = None
    org_id: int | None = None
    expected_version: int | None = None
    """A policy's change: applied only if the agent's presence is still at this version
    (any change since the deadline was planned cancels it)."""
    policy: str | None = None
    """The policy making the change, recorded in the history (limit:login, shift-end)."""
    due_ms: int | None = None
    """When the policy's deadline was due, recorded in the history."""
    reason: str | None = None
    """Why, recorded in the history: a rule's name (wrap-up, missed-calls, ...) or a
    supervisor's words."""
    actor: str | None = None
    """Who, recorded in the history: the web user's e-mail, the API token's label."""
    at_ms: int | None = None
    """When the change happened, for one recorded after the fact (the demo writes a past
    day through this path); None, as for every request: now."""


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The outcome row, and the recorded change when one was applied."""

    row: Row
    org_id: int | None = None
    change: Change | None = None
    history_id: int | None = None
    at_ms: int | None = None
    repeated: str | None = None
    """The agent who set the status (and extension) it was already in: nothing changed
    nor recorded (SPEC 3.2), but Voicenter's monitor announces it again."""
