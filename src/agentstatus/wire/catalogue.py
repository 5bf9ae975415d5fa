"""The default status catalogue every new organisation starts with (SPEC.md section 2):
Voicenter's status numbers, which a client may send without reading the catalogue first."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class AgentStatus(IntEnum):
    """The default status catalogue of every organisation; any int works as a status too.

    client.set_status("1001", "sip1001", AgentStatus.LUNCH_BREAK)
    """

    LOGIN = 1
    LOGOUT = 2
    LUNCH_BREAK = 3
    ADMINISTRATIVE = 5
    PRIVATE_BREAK = 7
    OTHER = 9
    TRAINING = 11
    DEPARTMENT_MEETING = 12
    SUMMARY = 13


@dataclass(frozen=True, slots=True)
class StatusDefinition:
    id: int
    name: str
    color: str
    available: bool
    enabled: bool = True


def _default(status: AgentStatus, name: str, color: str, *, available: bool) -> StatusDefinition:
    # The plain int: the ids go to the databases and to JSON, which need no enum.
    return StatusDefinition(status.value, name, color, available=available)


DEFAULT_CATALOGUE: tuple[StatusDefinition, ...] = (
    _default(AgentStatus.LOGIN, "Login", "#2ecc71", available=True),
    _default(AgentStatus.LOGOUT, "Logout", "#95a5a6", available=False),
    _default(AgentStatus.LUNCH_BREAK, "Lunch break", "#f39c12", available=False),
    _default(AgentStatus.ADMINISTRATIVE, "Administrative time", "#3498db", available=False),
    _default(AgentStatus.PRIVATE_BREAK, "Private break", "#9b59b6", available=False),
    _default(AgentStatus.OTHER, "Other", "#7f8c8d", available=False),
    _default(AgentStatus.TRAINING, "Training", "#1abc9c", available=False),
    _default(AgentStatus.DEPARTMENT_MEETING, "Department meeting", "#34495e", available=False),
    _default(AgentStatus.SUMMARY, "Summary (wrap-up)", "#e67e22", available=False),
)
