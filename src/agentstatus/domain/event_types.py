"""The types of event an applied change produces, for streams and webhook filters."""

from __future__ import annotations

from agentstatus.domain.catalogue import LOGOUT

LOGIN_EVENT = "agent.login"
LOGOUT_EVENT = "agent.logout"
STATUS_EVENT = "agent.status"
OVERDUE_EVENT = "agent.overdue"
TEST_EVENT = "webhook.test"
EVENT_TYPES = (LOGIN_EVENT, LOGOUT_EVENT, STATUS_EVENT, OVERDUE_EVENT)
# The history's policy of a warning (no change: the agent stayed in a status past its limit).
WARN_POLICY = "limit:warn"


def event_type(prev_status: int, new_status: int, policy: str | None = None) -> str:
    """agent.login (from logged out), agent.logout, agent.status (any other change,
    including a move to another extension), or agent.overdue (a limit's warning)."""
    if policy == WARN_POLICY:
        return OVERDUE_EVENT
    if new_status == LOGOUT:
        return LOGOUT_EVENT
    if prev_status == LOGOUT:
        return LOGIN_EVENT
    return STATUS_EVENT
