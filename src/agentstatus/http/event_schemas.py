"""The shapes of everything agentstatus pushes: the event stream's and webhooks' events,
the stream's ``snapshot`` and ``lagged``, and the Voicenter monitor socket's messages.

One description, in one place: ``http.asyncapi`` builds the AsyncAPI document's message
schemas from these types (pydantic's JSON Schema of each), and the tests validate what a
real server sends against that document. Every shape forbids keys it does not name, and a
key the server leaves out in some cases is ``NotRequired`` (never "null or missing"), so a
field the server adds, or stops sending, fails the tests rather than drifting.

TypedDicts rather than models: the server builds plain dicts (encoded once per event by
orjson), and a TypedDict describes a dict as it is, with no copy made to send it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, TypeAdapter, WithJsonSchema, with_config

# pydantic reads a TypedDict's NotRequired keys on 3.11 only from typing_extensions'.
from typing_extensions import TypedDict

# A TypedDict's schema names no other keys (additionalProperties: false).
_CLOSED = ConfigDict(extra="forbid", use_attribute_docstrings=True)

Iso = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2026-01-05T08:30:00.000Z"]}
    ),
]
"""A time as ISO 8601, UTC, to the millisecond (``2026-01-05T08:30:00.000Z``)."""

# ----------------------------------------------------------------------------------------
# The event stream's and webhooks' events (HistoryEvent.as_event_json).


@with_config(_CLOSED)
class StatusAt(TypedDict):
    """The agent's extension (null: none) and status code, before or after the event."""

    extension: str | None
    status: int


@with_config(_CLOSED)
class CallJson(TypedDict):
    """A call of the agent's extension, as the phone system reported it."""

    id: str
    extension: str
    direction: Literal["in", "out"]
    state: Literal["Ringing", "Dialing", "Talking", "Hold"]
    caller_name: str
    caller_number: str
    dialled: str
    started: Iso
    answered: Iso | None


@with_config(_CLOSED)
class QueueCallerJson(TypedDict):
    """A caller of one of the phone system's queues: what happened (``change``), the queue
    (``name``), the caller, when it joined, how long it waited (s; null for a join)."""

    change: Literal["joined", "answered", "abandoned", "left"]
    name: str
    call_id: str
    phone: str
    joined_at: Iso | None
    wait_seconds: float | None


@with_config(_CLOSED)
class MissedCallDetail(TypedDict):
    """The missed calls in a row (this one included), the queue, how long it rang (ms)."""

    count: int
    queue: str
    ring_ms: int | None


@with_config(_CLOSED)
class NextStatusDetail(TypedDict):
    """The status queued for when the agent's call and wrap-up end (null: unqueued)."""

    status: int | None


@with_config(_CLOSED)
class PhoneDetail(TypedDict):
    """The extension whose phone registered or unregistered, and its state."""

    extension: str
    phone: Literal["registered", "unregistered", "unknown"]


@with_config(_CLOSED)
class _AgentEvent(TypedDict):
    id: int
    """The event's id: the stream's cursor (``Last-Event-ID``, ``resume_after``)."""
    org: str
    user_id: str
    previous: StatusAt
    new: StatusAt
    at: Iso
    source: str
    """What made it: api, voicenter, web, admin, pbx, policy, ..."""
    reason: NotRequired[str]
    """Why: a rule's name (wrap-up, missed-calls, ...) or a supervisor's words."""
    actor: NotRequired[str]
    """Who: a web user's e-mail or an API token's label."""


@with_config(_CLOSED)
class PresenceChangeEvent(_AgentEvent):
    """An agent logged in or out, changed status or extension, or went to wrap-up."""

    type: Literal["agent.login", "agent.logout", "agent.status", "agent.wrap_up_started"]
    policy: NotRequired[str]
    """The policy that made the change (e.g. ``limit:auto-logout``), if one did."""
    due: NotRequired[Iso | None]
    """When the policy was due (``at`` is when it was applied)."""


@with_config(_CLOSED)
class OverdueEvent(_AgentEvent):
    """The agent stayed in a status past its limit (a warning: no change)."""

    type: Literal["agent.overdue"]
    policy: str
    due: Iso | None


@with_config(_CLOSED)
class CallEvent(_AgentEvent):
    """A call of the agent's extension started, was answered, held, resumed or ended."""

    type: Literal["call.started", "call.answered", "call.held", "call.resumed", "call.ended"]
    call: CallJson


@with_config(_CLOSED)
class MissedCallEvent(_AgentEvent):
    """A call offered to the agent rang out unanswered (no change by itself)."""

    type: Literal["agent.missed_call"]
    detail: MissedCallDetail


@with_config(_CLOSED)
class NextStatusEvent(_AgentEvent):
    """A status queued (or unqueued) for when the agent's call and wrap-up end."""

    type: Literal["agent.next_status"]
    detail: NextStatusDetail


@with_config(_CLOSED)
class PhoneEvent(_AgentEvent):
    """The phone of the agent's extension registered or unregistered (no change)."""

    type: Literal["extension.phone"]
    detail: PhoneDetail


@with_config(_CLOSED)
class QueueCallerEvent(TypedDict):
    """A caller joined, was answered in, abandoned or left a queue: no agent's event
    (``user_id`` only when an agent answered it)."""

    id: int
    type: Literal[
        "queue.caller_joined",
        "queue.caller_answered",
        "queue.caller_abandoned",
        "queue.caller_left",
    ]
    org: str
    user_id: NotRequired[str]
    at: Iso
    source: str
    reason: NotRequired[str]
    actor: NotRequired[str]
    queue: QueueCallerJson


@with_config(_CLOSED)
class WebhookTestEvent(TypedDict):
    """What ``webhook test`` sends an endpoint (webhooks only, never the stream)."""

    type: Literal["webhook.test"]
    org: str
    at: Iso


HISTORY_EVENTS: tuple[type[Any], ...] = (
    PresenceChangeEvent,
    OverdueEvent,
    CallEvent,
    MissedCallEvent,
    NextStatusEvent,
    PhoneEvent,
    QueueCallerEvent,
)
"""Every kind of event of the history, by the message that carries it."""

# ----------------------------------------------------------------------------------------
# The event stream's own events.


@with_config(_CLOSED)
class PresenceJson(TypedDict):
    """One agent's presence (``GET …/presence``'s shape)."""

    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str | None
    since: Iso


@with_config(_CLOSED)
class Snapshot(TypedDict):
    """The stream's first event: every agent's presence (the ones asked for) now; its
    SSE ``id`` is the cursor the events after it follow."""

    org: str
    agents: list[PresenceJson]


@with_config(_CLOSED)
class Lagged(TypedDict):
    """The last event of a stream dropped for falling behind: reconnect with
    ``Last-Event-ID: resume_after`` (or ``?after=``) to read what it missed."""

    reason: Literal["lagged"]
    resume_after: int


# ----------------------------------------------------------------------------------------
# The Voicenter monitor socket (wire.monitor_events): Voicenter's names and casings.


@with_config(_CLOSED)
class MonitorRecording(TypedDict):
    Filename: str
    Options: str
    ApproximateURL: str
    IsMuted: int


@with_config(_CLOSED)
class MonitorCallJson(TypedDict):
    """A live call (``calls[]``, ``currentCall``); epochs in seconds, organisation's clock."""

    callStarted: int
    calldurationinterval: int
    callAnswered: int
    answered: int
    callername: str
    callerphone: str
    outgoingcallername: str
    outgoingcallerphone: str
    callstatus: str
    customdata: dict[str, Any]
    direction: Literal["Incoming", "Outgoing"]
    ivrid: str
    recording: MonitorRecording
    did: str
    relatedIvrUniqueIDs: list[str]
    callType: Literal["Incoming", "Outgoing"]
    originalCallerID: NotRequired[str]
    actualDialedNumber: str
    channel: str
    channel2: str
    queueID: int
    isSpyed: bool
    isInternal: bool
    ip: str
    blcServerID: int


@with_config(_CLOSED)
class MonitorSummary(TypedDict):
    representative: str


@with_config(_CLOSED)
class MonitorExtensionJson(TypedDict):
    """An extension (``AllExtensionsStatus.extensions[]``, ``ExtensionEvent.data``)."""

    calls: list[MonitorCallJson]
    userID: int
    userName: str
    number: int
    extenUser: str
    accountID: int
    topAccountID: int
    summery: MonitorSummary
    onlineUserID: int
    representative: int
    representativeStatus: int
    lastCallEventEpoch: int
    lastAnsweredCallEventEpoch: int
    lastHangupCallEpoch: int
    representativeUpdated: int
    """Milliseconds (the only one)."""
    peerStatus: None
    currentCall: NotRequired[MonitorCallJson]


@with_config(_CLOSED)
class MonitorQueueCall(TypedDict):
    CallerID: str
    CallerName: str
    IvrUniqueID: str
    JoinTimeStamp: int
    calldurationinterval: int
    ivrid: str
    isDistributedQueue: bool
    customdata: dict[str, Any]


@with_config(_CLOSED)
class MonitorQueueJson(TypedDict):
    """A queue and its callers waiting, longest first."""

    QueueID: int
    QueueName: str
    UserID: int
    DistributorID: int
    IsDistributedQueue: bool
    Calls: list[MonitorQueueCall]
    AnsweredAgent: NotRequired[str]


@with_config(_CLOSED)
class LoginSuccess(TypedDict):
    servertime: int
    servertimeoffset: int
    errorCode: int
    errorDesc: str


@with_config(_CLOSED)
class LoginStatus(LoginSuccess):
    queues: list[MonitorQueueJson]


@with_config(_CLOSED)
class AllExtensionsStatus(LoginSuccess):
    extensions: list[MonitorExtensionJson]


@with_config(_CLOSED)
class ExtensionEvent(TypedDict):
    """A status change (``userStatusUpdate``) or a call's event of one extension."""

    data: MonitorExtensionJson
    eventName: Literal["extension"]
    reason: Literal["userStatusUpdate", "NEWCALL", "ANSWER", "HOLD", "UNHOLD", "HANGUP"]
    servertime: int
    servertimeoffset: int
    telephonyservertime: NotRequired[int]
    callerID: NotRequired[str]
    ivruniqueid: NotRequired[str]
    dialStatus: NotRequired[str]
    cause: NotRequired[str]


@with_config(_CLOSED)
class QueueEvent(TypedDict):
    """A caller joined, left, was answered in or abandoned a queue."""

    data: MonitorQueueJson
    eventName: Literal["queue"]
    reason: Literal["JOIN", "EXIT", "ANSWER", "ABANDONED"]
    servertime: int
    servertimeoffset: int
    telephonyservertime: int
    ivruniqueid: str


@with_config(_CLOSED)
class KeepaliveResponse(TypedDict):
    isOk: bool
    errorCode: int
    errorDesc: str
    serverTime: int
    serverTimeOffset: int


class UpdateMonitoredExtensions(TypedDict):
    """The extensions to monitor: numeric ids, comma-separated ("": all)."""

    extensionsString: str


def json_schema_of(shape: object, ref_template: str) -> dict[str, Any]:
    """The JSON Schema of one shape: its nested shapes under ``$defs``, referred to by
    ``ref_template`` (``{model}``: a shape's name)."""
    adapter: TypeAdapter[Any] = TypeAdapter(shape)  # type: ignore[arg-type]
    return adapter.json_schema(ref_template=ref_template)
