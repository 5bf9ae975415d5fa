"""The payloads of Voicenter's real-time monitor (the Events SDK's socket; SPEC section 9),
with the field names, casings, units and quirks of the recording in
``tests/fixtures/voicenter-events-sample.json`` (what Voicenter's servers really send).

Pure: plain values in, dicts out (``events.monitor`` encodes them once per event). Times
are epoch **seconds** except ``representativeUpdated`` (milliseconds); ``servertimeoffset``
is the organisation's offset from UTC in **minutes**. Voicenter's epochs are of the
organisation's wall clock, not UTC: every one is the UTC epoch plus the offset (the SDK
takes it off again: ``callStartedUTC = (callStarted - servertimeoffset * 60) * 1000``, its
``serverTimeUTC`` likewise; in the recording ``servertime`` 1703759753 is 10:35 "UTC" for a
call whose ``ivrid`` says 10:34, Israel's time, when it was 08:35 UTC). The values handed in
here are UTC; the shift is made here, once, by ``ServerTime.shift_s``. What agentstatus
does not know (the channels, the recording, the caller's IP) is the empty value of its
type, so that a CRM reading the key finds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The socket.io event names.
LOGIN_SUCCESS = "loginSuccess"
LOGIN_STATUS = "loginStatus"
ALL_EXTENSIONS_STATUS = "AllExtensionsStatus"
EXTENSION_EVENT = "ExtensionEvent"
QUEUE_EVENT = "QueueEvent"
EXTENSIONS_UPDATED = "ExtensionsUpdated"
KEEPALIVE_RESPONSE = "keepaliveResponse"

# ExtensionEvent reasons.
USER_STATUS_UPDATE = "userStatusUpdate"
NEWCALL = "NEWCALL"
ANSWER = "ANSWER"
HOLD = "HOLD"
UNHOLD = "UNHOLD"
HANGUP = "HANGUP"
CALL_REASONS = (NEWCALL, ANSWER, HOLD, UNHOLD, HANGUP)

# QueueEvent reasons.
JOIN = "JOIN"
EXIT = "EXIT"
ABANDONED = "ABANDONED"
# (ANSWER is shared with the extension's.)

HANGUP_CAUSE = "Normal hangup"
"""The phone systems do not tell agentstatus why a call ended: every hangup is normal."""


@dataclass(frozen=True, slots=True)
class MonitorCall:
    """One live call of an extension."""

    id: str
    """Our call id (the phone system's channel id): Voicenter's ``ivrid``."""
    incoming: bool
    state: str
    """Ringing, Dialing, Talking or Hold (Voicenter's ``callstatus`` words)."""
    caller_name: str
    caller_number: str
    dialled: str
    started_s: int
    answered_s: int | None = None


def _local(epoch_s: int, shift_s: int) -> int:
    """A UTC epoch on the organisation's clock; 0 (never) stays 0."""
    return epoch_s + shift_s if epoch_s else 0


def call_json(call: MonitorCall, shift_s: int = 0) -> dict[str, object]:
    """A call as ``calls[]`` and ``currentCall`` carry it. ``originalCallerID`` only on an
    incoming call (the recording's outgoing calls have none)."""
    direction = "Incoming" if call.incoming else "Outgoing"
    started = _local(call.started_s, shift_s)
    shaped: dict[str, object] = {
        "callStarted": started,
        "calldurationinterval": started,
        "callAnswered": _local(call.answered_s or 0, shift_s),
        "answered": 0 if call.answered_s is None else 1,
        "callername": call.caller_name,
        "callerphone": call.caller_number,
        "outgoingcallername": "" if call.incoming else call.caller_name,
        "outgoingcallerphone": "" if call.incoming else call.caller_number,
        "callstatus": call.state,
        "customdata": {},
        "direction": direction,
        "ivrid": call.id,
        "recording": {"Filename": "", "Options": "", "ApproximateURL": "", "IsMuted": 0},
        "did": call.dialled if call.incoming else "",
        "relatedIvrUniqueIDs": [],
        "callType": direction,
    }
    if call.incoming:
        shaped["originalCallerID"] = call.caller_number
    shaped.update(
        actualDialedNumber=call.dialled,
        channel="",
        channel2="",
        queueID=0,
        isSpyed=False,
        isInternal=False,
        ip="",
        blcServerID=0,
    )
    return shaped


@dataclass(frozen=True, slots=True)
class MonitorExtension:
    """One extension as the monitor shows it."""

    id: int
    """GetExtensions' ``extensionID``: ``userID`` and ``number``."""
    sip: str
    """``extenUser`` (``ExtensionUser`` on the wire)."""
    name: str
    account_id: int
    """The organisation's numeric id: ``accountID`` and ``topAccountID``."""
    representative: int
    """The agent at it (``onlineUserID``, ``representative``); 0 for nobody."""
    representative_name: str
    """``summery.representative``: the agent's name (the last one's, once it left)."""
    status: int
    """``representativeStatus``: 2 (Logout) when nobody holds it."""
    updated_ms: int
    """``representativeUpdated``: when its agent's status last changed (ms)."""
    calls: Sequence[MonitorCall] = ()
    last_call_s: int = 0
    last_answered_s: int = 0
    last_hangup_s: int = 0


def extension_json(
    extension: MonitorExtension, current: MonitorCall | None = None, shift_s: int = 0
) -> dict[str, object]:
    """The extension object of ``AllExtensionsStatus`` and ``ExtensionEvent.data``;
    ``currentCall`` on a call's event."""
    e = extension
    shaped: dict[str, object] = {
        "calls": [call_json(c, shift_s) for c in e.calls],
        "userID": e.id,
        "userName": e.name,
        "number": e.id,
        "extenUser": e.sip,
        "accountID": e.account_id,
        "topAccountID": e.account_id,
        "summery": {"representative": e.representative_name},
        "onlineUserID": e.representative,
        "representative": e.representative,
        "representativeStatus": e.status,
        "lastCallEventEpoch": _local(e.last_call_s, shift_s),
        "lastAnsweredCallEventEpoch": _local(e.last_answered_s, shift_s),
        "lastHangupCallEpoch": _local(e.last_hangup_s, shift_s),
        "representativeUpdated": _local(e.updated_ms, shift_s * 1000),
        "peerStatus": None,
    }
    if current is not None:
        shaped["currentCall"] = call_json(current, shift_s)
    return shaped


@dataclass(frozen=True, slots=True)
class ServerTime:
    """When a message is made: ``servertime`` (s) and ``servertimeoffset`` (min)."""

    seconds: int
    """UTC: ``servertime`` is ``local``."""
    offset_minutes: int

    @property
    def shift_s(self) -> int:
        """What turns a UTC epoch into one of the organisation's clock (Voicenter's)."""
        return self.offset_minutes * 60

    @property
    def local(self) -> int:
        return self.seconds + self.shift_s


def extension_event(
    extension: MonitorExtension,
    reason: str,
    time: ServerTime,
    *,
    call: MonitorCall | None = None,
    telephony_s: int | None = None,
) -> dict[str, object]:
    """An ``ExtensionEvent``: a status change (``userStatusUpdate``) or a call's event
    (``telephonyservertime``: when the phone system said it; a ``HANGUP`` names the call
    that ended: ``callerID``, ``ivruniqueid``, ``dialStatus``, ``cause``)."""
    shaped: dict[str, object] = {
        "data": extension_json(extension, call, time.shift_s),
        "eventName": "extension",
        "reason": reason,
        "servertime": time.local,
        "servertimeoffset": time.offset_minutes,
    }
    if reason in CALL_REASONS:
        at_s = time.seconds if telephony_s is None else telephony_s
        shaped["telephonyservertime"] = _local(at_s, time.shift_s)
    if reason == HANGUP and call is not None:
        shaped.update(
            callerID=call.caller_name or call.caller_number,
            ivruniqueid=call.id,
            dialStatus="",
            cause=HANGUP_CAUSE,
        )
    return shaped


@dataclass(frozen=True, slots=True)
class MonitorQueueCaller:
    call_id: str
    phone: str
    joined_s: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class MonitorQueue:
    id: int
    name: str
    account_id: int
    """``UserID`` and ``DistributorID`` (the organisation's numeric id)."""
    callers: Sequence[MonitorQueueCaller] = field(default=())
    """Waiting, longest first."""


def queue_json(queue: MonitorQueue, shift_s: int = 0) -> dict[str, object]:
    """A queue as ``loginStatus.queues[]`` and ``QueueEvent.data`` carry it (``Calls`` is
    always an array: the SDK maps it)."""
    return {
        "QueueID": queue.id,
        "QueueName": queue.name,
        "UserID": queue.account_id,
        "DistributorID": queue.account_id,
        "IsDistributedQueue": False,
        "Calls": [
            {
                "CallerID": c.phone,
                "CallerName": c.name,
                "IvrUniqueID": c.call_id,
                "JoinTimeStamp": _local(c.joined_s, shift_s),
                "calldurationinterval": _local(c.joined_s, shift_s),
                "ivrid": c.call_id,
                "isDistributedQueue": False,
                "customdata": {},
            }
            for c in queue.callers
        ],
    }


def queue_event(
    queue: MonitorQueue,
    reason: str,
    call_id: str,
    time: ServerTime,
    telephony_s: int,
    answered_by: str | None = None,
) -> dict[str, object]:
    """A ``QueueEvent`` (``JOIN``, ``EXIT``, ``ANSWER``, ``ABANDONED``); ``data.Calls`` are
    the callers waiting after it; an ``EXIT`` of an answered caller names the agent who
    answered (``AnsweredAgent``)."""
    data = queue_json(queue, time.shift_s)
    if answered_by is not None:
        data["AnsweredAgent"] = answered_by
    return {
        "data": data,
        "eventName": "queue",
        "reason": reason,
        "servertime": time.local,
        "servertimeoffset": time.offset_minutes,
        "telephonyservertime": _local(telephony_s, time.shift_s),
        "ivruniqueid": call_id,
    }


def _ok(time: ServerTime) -> dict[str, object]:
    return {
        "servertime": time.local,
        "servertimeoffset": time.offset_minutes,
        "errorCode": 0,
        "errorDesc": "OK",
    }


def login_success(time: ServerTime) -> dict[str, object]:
    return _ok(time)


def login_status(queues: Iterable[MonitorQueue], time: ServerTime) -> dict[str, object]:
    """``loginStatus``: lower-case ``queues``, each with its callers waiting."""
    return {"queues": [queue_json(q, time.shift_s) for q in queues], **_ok(time)}


def all_extensions_status(
    extensions: Iterable[dict[str, object]], time: ServerTime
) -> dict[str, object]:
    """``AllExtensionsStatus`` of extension objects already shaped (``extension_json``)."""
    return {"extensions": list(extensions), **_ok(time)}


def extensions_updated(monitored: Iterable[int] | None) -> str:
    """``ExtensionsUpdated``'s payload, a string (the SDK forwards it as-is and types it
    so): the numeric ids now monitored, comma-separated, "" for all. (Voicenter's
    recording has none; the string the SDK types is the extensions string.)"""
    return "" if monitored is None else ",".join(str(i) for i in sorted(monitored))


def keepalive_response(time: ServerTime) -> dict[str, object]:
    """``keepaliveResponse``: ``errorCode`` 0 always (the SDK reconnects on any other)."""
    return {
        "isOk": True,
        "errorCode": 0,
        "errorDesc": "Ok",
        "serverTime": time.local,
        "serverTimeOffset": time.offset_minutes,
    }
