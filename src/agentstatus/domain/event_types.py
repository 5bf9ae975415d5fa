"""The types of event an applied change produces, for streams and webhook filters."""

from __future__ import annotations

from agentstatus.domain.catalogue import LOGOUT

LOGIN_EVENT = "agent.login"
LOGOUT_EVENT = "agent.logout"
STATUS_EVENT = "agent.status"
OVERDUE_EVENT = "agent.overdue"
CALL_STARTED = "call.started"
CALL_ANSWERED = "call.answered"
CALL_HELD = "call.held"
CALL_RESUMED = "call.resumed"
CALL_ENDED = "call.ended"
CALL_EVENTS = (CALL_STARTED, CALL_ANSWERED, CALL_HELD, CALL_RESUMED, CALL_ENDED)
TEST_EVENT = "webhook.test"
EVENT_TYPES = (LOGIN_EVENT, LOGOUT_EVENT, STATUS_EVENT, OVERDUE_EVENT, *CALL_EVENTS)
# The history's policy of a warning (no change: the agent stayed in a status past its limit).
WARN_POLICY = "limit:warn"
# The history's policy of a call's event is "call:" and what happened (call:started, ...).
CALL_POLICY = "call:"


def is_change(policy: str | None) -> bool:
    """Whether a history row changes a status (agent.login, agent.logout, agent.status):
    not a limit's warning nor a call's event, which leave the agent where it was. The
    database's form of the same test is ``service.history.IS_CHANGE``."""
    return policy != WARN_POLICY and not (policy or "").startswith(CALL_POLICY)


def event_type(prev_status: int, new_status: int, policy: str | None = None) -> str:
    """agent.login (from logged out), agent.logout, agent.status (any other change,
    including a move to another extension), agent.overdue (a limit's warning), or a call's
    event (call.started, ...: the phone system's, the status unchanged)."""
    if policy == WARN_POLICY:
        return OVERDUE_EVENT
    if policy is not None and policy.startswith(CALL_POLICY):
        return "call." + policy.removeprefix(CALL_POLICY)
    if new_status == LOGOUT:
        return LOGOUT_EVENT
    if prev_status == LOGOUT:
        return LOGIN_EVENT
    return STATUS_EVENT
