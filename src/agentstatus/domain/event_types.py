"""The kinds of event in the history (the event log), for streams and webhook filters.

Every history row has a ``kind``: its event type. Status changes are ``agent.login``,
``agent.logout`` and ``agent.status``; a limit's warning (``agent.overdue``) and a call's
event (``call.started``, ...) leave the agent where it was, in the status it was in.
"""

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
WRAP_UP_EVENT = "agent.wrap_up_started"
"""A change into the organisation's wrap-up status after an answered call (SPEC 8)."""
MISSED_CALL_EVENT = "agent.missed_call"
"""A call offered to the agent rang out unanswered (no change by itself)."""
NEXT_STATUS_EVENT = "agent.next_status"
"""A status queued (or unqueued) for when the agent's call and wrap-up end (no change)."""
PHONE_EVENT = "extension.phone"
"""The phone of the agent's extension registered or unregistered (no change)."""
QUEUE_JOINED = "queue.caller_joined"
QUEUE_ANSWERED = "queue.caller_answered"
QUEUE_ABANDONED = "queue.caller_abandoned"
QUEUE_LEFT = "queue.caller_left"
QUEUE_EVENTS = (QUEUE_JOINED, QUEUE_ANSWERED, QUEUE_ABANDONED, QUEUE_LEFT)
"""A caller in one of the phone system's queues (issue 24): no agent's change. An answered
caller's event names the agent who answered, when known; the others name no agent."""
TEST_EVENT = "webhook.test"
CHANGE_KINDS = (LOGIN_EVENT, LOGOUT_EVENT, STATUS_EVENT, WRAP_UP_EVENT)
"""The kinds that change an agent's presence (and so its time in status)."""
EVENT_TYPES = (
    *CHANGE_KINDS,
    OVERDUE_EVENT,
    *CALL_EVENTS,
    MISSED_CALL_EVENT,
    NEXT_STATUS_EVENT,
    PHONE_EVENT,
    *QUEUE_EVENTS,
)

# The reasons of changes the phone system's rules make (SPEC 8), in the history's reason.
WRAP_UP_REASON = "wrap-up"
WRAP_UP_ENDED_REASON = "wrap-up-ended"
MISSED_CALLS_REASON = "missed-calls"
PHONE_OFFLINE_REASON = "phone-offline"
NEXT_STATUS_REASON = "next-status"
# The history's policy of a warning (no change: the agent stayed in a status past its limit).
WARN_POLICY = "limit:warn"
# The history's policy of a call's event is "call:" and what happened (call:started, ...).
CALL_POLICY = "call:"


def is_change(kind: str) -> bool:
    """Whether an event of this kind changes the agent's presence: not a limit's warning
    nor a call's event. The database's form of the same test is
    ``storage.history.IS_CHANGE``."""
    return kind in CHANGE_KINDS


def change_kind(prev_status: int, new_status: int, reason: str | None = None) -> str:
    """agent.login (from logged out), agent.logout, agent.wrap_up_started (a change made
    for a call's wrap-up), agent.status (any other change, including a move to another
    extension)."""
    if new_status == LOGOUT:
        return LOGOUT_EVENT
    if prev_status == LOGOUT:
        return LOGIN_EVENT
    if reason == WRAP_UP_REASON:
        return WRAP_UP_EVENT
    return STATUS_EVENT


QUEUE_PREFIX = "queue.caller_"


def queue_kind(change: str) -> str:
    """The kind of a queue caller's event: ``queue.caller_`` and what happened."""
    return QUEUE_PREFIX + change


def is_queue(kind: str) -> bool:
    """Whether an event of this kind is a queue's caller's: no agent's event, even when it
    names the agent who answered (an agent's own stream does not carry it)."""
    return kind.startswith(QUEUE_PREFIX)


def call_kind(change: str) -> str:
    """The kind of a call's event: ``call.`` and what happened (started, answered, ...)."""
    return "call." + change


def call_policy(change: str) -> str:
    """The policy a call's event is recorded with: ``call:`` and what happened."""
    return CALL_POLICY + change
