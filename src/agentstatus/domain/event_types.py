"""The types of event an applied change produces, for streams and webhook filters."""

from __future__ import annotations

from agentstatus.domain.catalogue import LOGOUT

LOGIN_EVENT = "agent.login"
LOGOUT_EVENT = "agent.logout"
STATUS_EVENT = "agent.status"
TEST_EVENT = "webhook.test"
EVENT_TYPES = (LOGIN_EVENT, LOGOUT_EVENT, STATUS_EVENT)


def event_type(prev_status: int, new_status: int) -> str:
    """agent.login (from logged out), agent.logout, or agent.status (any other change,
    including a move to another extension)."""
    if new_status == LOGOUT:
        return LOGOUT_EVENT
    if prev_status == LOGOUT:
        return LOGIN_EVENT
    return STATUS_EVENT
