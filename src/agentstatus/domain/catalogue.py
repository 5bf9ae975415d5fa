"""The default status catalogue every new organisation starts with (SPEC.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass

LOGIN = 1
LOGOUT = 2
BUILT_IN = frozenset({LOGIN, LOGOUT})


@dataclass(frozen=True, slots=True)
class StatusDefinition:
    id: int
    name: str
    color: str
    available: bool
    enabled: bool = True


DEFAULT_CATALOGUE: tuple[StatusDefinition, ...] = (
    StatusDefinition(1, "Login", "#2ecc71", available=True),
    StatusDefinition(2, "Logout", "#95a5a6", available=False),
    StatusDefinition(3, "Lunch break", "#f39c12", available=False),
    StatusDefinition(5, "Administrative time", "#3498db", available=False),
    StatusDefinition(7, "Private break", "#9b59b6", available=False),
    StatusDefinition(9, "Other", "#7f8c8d", available=False),
    StatusDefinition(11, "Training", "#1abc9c", available=False),
    StatusDefinition(12, "Department meeting", "#34495e", available=False),
    StatusDefinition(13, "Summary (wrap-up)", "#e67e22", available=False),
)
