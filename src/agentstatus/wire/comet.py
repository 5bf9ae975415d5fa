"""The answers of Voicenter's Comet endpoints, ``GetExtensions``, ``GetExtensionsCalls``
(SPEC.md section 4) and ``GetQueuesCallers`` (issue 24).

The field names and descriptions are part of the exposed HTTP API; don't rename them.
"""

from __future__ import annotations

# The envelope: part of the exposed HTTP API; don't rename.
ERR = "ERR"
DESC = "DESC"
EXTENSIONS = "EXTENSIONS"
ERR_OK = 0
ERR_REFUSED = 1
DESC_OK = "OK"
DESC_UNAUTHORIZED = "Unauthorized"
DESC_UNAVAILABLE = "Service unavailable"
# GetQueuesCallers answers Voicenter's documented family of ``ERR`` (its Active Calls page):
# 1 a request that cannot be read (no Code, unreadable parameters, another method), 2 a
# Code that is refused (unknown, blocked, not from this address) or an internal error.
ERR_MALFORMED = 1
ERR_INVALID = 2
DESC_MALFORMED = "Invalid request"
QUEUES = "QUEUES"

# A GetExtensions item: part of the exposed HTTP API; don't rename.
SIP = "SIP"
NAME = "Name"
PEER_STATUS = "peerStatus"
"""The phone's registration: "registered", "unregistered", or null when unknown (as
Voicenter's real-time events send ``peerStatus``)."""

# A GetExtensionsCalls item: part of the exposed HTTP API; don't rename.
USERNAME = "username"
USER_NAME = "name"
ONLINE_USER_ID = "onlineUserID"
ONLINE_USER_STATUS = "onlineUserStatus"
CALLS = "calls"
REPRESENTATIVE = "representative"
EXTENSION_ID = "extensionID"
USER_ID = "userID"
# A call of a GetExtensionsCalls item: part of the exposed HTTP API; don't rename.
CALL_STARTED = "callStarted"
CALL_ANSWERED = "callAnswered"
ANSWERED = "answered"
CALLER_NAME = "callername"
CALLER_PHONE = "callerphone"
CALL_STATUS = "callstatus"
DIRECTION = "direction"
IVR_ID = "ivrid"
DID = "did"
DIRECTIONS = {"in": "Incoming", "out": "Outgoing"}
# A GetQueuesCallers queue and caller: part of the exposed HTTP API; don't rename.
QUEUE_NAME = "Name"
QUEUE_ID = "ID"
QUEUE_WEIGHT = "Weight"
QUEUE_CALLERS = "Callers"
CALLER_PHONE_NUMBER = "Phone"
CALLER_CALL_ID = "CallID"
CALLER_JOIN_TIME = "JoinTime"
CALLER_DURATION = "Duration"


def unauthorized() -> dict[str, int | str]:
    """A Code that is missing, unreadable, unknown, blocked or not allowed from here."""
    return {ERR: ERR_REFUSED, DESC: DESC_UNAUTHORIZED}


def unavailable() -> dict[str, int | str]:
    """The database could not be read (sent with HTTP 503)."""
    return {ERR: ERR_REFUSED, DESC: DESC_UNAVAILABLE}


def ok(extensions: list[dict[str, object]]) -> dict[str, object]:
    return {ERR: ERR_OK, DESC: DESC_OK, EXTENSIONS: extensions}


def malformed() -> dict[str, int | str]:
    """GetQueuesCallers: a request that cannot be read (no Code, another method)."""
    return {ERR: ERR_MALFORMED, DESC: DESC_MALFORMED}


def invalid_code() -> dict[str, int | str]:
    """GetQueuesCallers: a Code that is unknown, blocked or not allowed from here."""
    return {ERR: ERR_INVALID, DESC: DESC_UNAUTHORIZED}


def failed() -> dict[str, int | str]:
    """GetQueuesCallers: the database could not be read (sent with HTTP 503)."""
    return {ERR: ERR_INVALID, DESC: DESC_UNAVAILABLE}


def queues_ok(queues: list[dict[str, object]]) -> dict[str, object]:
    return {ERR: ERR_OK, DESC: DESC_OK, QUEUES: queues}


def queue(
    name: str, queue_id: int, weight: int, callers: list[dict[str, object]]
) -> dict[str, object]:
    """One queue of ``GetQueuesCallers``: its callers waiting, longest first."""
    return {QUEUE_NAME: name, QUEUE_ID: queue_id, QUEUE_WEIGHT: weight, QUEUE_CALLERS: callers}


def caller(phone: str, call_id: str, joined_ms: int, now_ms: int) -> dict[str, object]:
    """One caller waiting: its number ("" when unknown), its call, when it joined in Unix
    seconds (as ``GetExtensionsCalls``' call times) and how many whole seconds it has
    waited so far."""
    return {
        CALLER_PHONE_NUMBER: phone,
        CALLER_CALL_ID: call_id,
        CALLER_JOIN_TIME: joined_ms // 1000,
        CALLER_DURATION: max(0, now_ms - joined_ms) // 1000,
    }


def extension(sip: str, name: str, phone: str | None = None) -> dict[str, object]:
    """One item of ``GetExtensions``: its phone's state is ``None`` when unknown."""
    return {SIP: sip, NAME: name, PEER_STATUS: phone}


def extension_calls(
    sip: str,
    name: str,
    user_id: str | None,
    status: int,
    *,
    extension_id: int = 0,
    representative: str = "",
    calls: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """One item of ``GetExtensionsCalls``: who holds the extension, in which status, and its
    live calls (when a phone system is connected)."""
    return {
        USERNAME: sip,
        USER_NAME: name,
        ONLINE_USER_ID: online_user_id(user_id),
        ONLINE_USER_STATUS: status,
        REPRESENTATIVE: representative,
        EXTENSION_ID: extension_id,
        USER_ID: online_user_id(user_id),
        CALLS: calls or [],
    }


def call(
    *,
    call_id: str,
    direction: str,
    state: str,
    caller_name: str,
    caller_number: str,
    dialled: str,
    started_ms: int,
    answered_ms: int | None,
) -> dict[str, object]:
    """One call of an extension as Voicenter shows it: times in Unix seconds (0: not
    answered), the other party's name and number, the number dialled (``did``)."""
    return {
        CALL_STARTED: started_ms // 1000,
        CALL_ANSWERED: 0 if answered_ms is None else answered_ms // 1000,
        ANSWERED: 0 if answered_ms is None else 1,
        CALLER_NAME: caller_name,
        CALLER_PHONE: caller_number,
        CALL_STATUS: state,
        DIRECTION: DIRECTIONS.get(direction, direction),
        IVR_ID: call_id,
        DID: dialled,
    }


def online_user_id(user_id: str | None) -> int | str:
    """Voicenter sends numeric user ids as numbers, and 0 when nobody is logged in."""
    if user_id is None:
        return 0
    return int(user_id) if user_id.isascii() and user_id.isdigit() else user_id
