"""``GET /api/v1/orgs/{org}/events`` served as raw ASGI, like the Voicenter hot path.

Thousands of streams connect at once (every supervisor's board and agent's panel after a
restart or a network drop): through FastAPI each connect cost the event loop about 2 ms of
routing and dependency solving, which kept 2,050 of them from their snapshots for 4 s.
This handler does the same checks for a fraction of that, and is the one implementation:
the FastAPI route (``http/api/events.py``) documents it and hands its requests to it.
Refusals are answered from the API's error table (``http/errors.py``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.domain.integers import INT64_MAX, parse_int
from agentstatus.events import credentials
from agentstatus.events.credentials import Credential
from agentstatus.events.fanout import EventFilter
from agentstatus.events.stream import EventStream, SubscriberResponse
from agentstatus.http.bearer import check_scope, check_token, token_in
from agentstatus.http.context import AppContext
from agentstatus.http.errors import (
    DATABASE_UNAVAILABLE,
    MethodNotAllowed,
    answer,
    answer_to,
)
from agentstatus.http.requests import header
from agentstatus.http.responses import send_error
from agentstatus.service import agents
from agentstatus.service.errors import ErrorCode, InvalidInput, ServiceError, Unavailable
from agentstatus.storage.commit_order import resume_floor

MAX_USERS = 1000
# A stream resumes from the history only this far back: a cursor older than the newest
# event before it (a client away for longer, or ``Last-Event-ID: 0``) gets a snapshot
# instead, so a cheap request cannot make the server read an organisation's whole history.
RESUME_HORIZON_MS = 6 * 3600 * 1000
MAX_EVENT_ID = INT64_MAX
PATH = re.compile(r"/api/v1/orgs/([A-Za-z0-9_-]{1,64})/events")

log = logging.getLogger(__name__)


async def subscriber_response(
    context: AppContext,
    org: str,
    oid: int,
    resume: int | None,
    event_filter: EventFilter,
    credential: Credential | None,
) -> SubscriberResponse:
    """The stream of one subscriber: a snapshot (unless it resumes), what it missed, and
    its live events. Raises TooMany when the token has its most streams open here, and
    Unavailable when the organisation's feed cannot start."""
    fanout = context.fanout
    release = fanout.streams.take(credential)
    try:
        try:
            feed = await fanout.feed(org, oid)
        except TimeoutError:
            raise Unavailable("the event stream cannot start now; try again") from None
        first = None
        if resume is not None:
            before = now_ms() - RESUME_HORIZON_MS
            if resume < await asyncio.to_thread(resume_floor, context.engine, oid, before):
                resume = None
        if resume is None:
            try:
                first, cursor = await feed.snapshot_for(event_filter)
            except TimeoutError:  # no consistent snapshot in time
                raise Unavailable("the event stream cannot start now; try again") from None
        else:
            cursor = resume
        catching = await fanout.subscribe(org, oid, cursor, event_filter, credential, release)
    except BaseException:
        release()
        raise
    # From here the subscription gives the slot back when it closes.
    stream = EventStream(fanout, org, oid, cursor, event_filter, catching, first)
    return SubscriberResponse(stream)


def event_filter(user_ids: Sequence[str] | None, types: Sequence[str] | None) -> EventFilter:
    return EventFilter(
        None if user_ids is None else frozenset(user_ids),
        None if types is None else frozenset(types),
    )


@dataclass(frozen=True, slots=True)
class StreamRequest:
    token: str
    resume: int | None
    user_ids: list[str] | None
    types: list[str] | None


def _event_id(text: str, name: str) -> int:
    value = parse_int(text, 0, MAX_EVENT_ID)
    if value is None:
        raise InvalidInput(f"{name} must be a whole number from 0 to {MAX_EVENT_ID}")
    return value


def _read(scope: Scope) -> StreamRequest:
    """The request's token and parameters, as the route documents them."""
    token = token_in(header(scope, b"authorization"))
    try:
        query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise InvalidInput("the query string is not UTF-8") from None
    user_ids = [v for k, v in query if k == "user_id"] or None
    types = [v for k, v in query if k == "type"] or None
    after = [v for k, v in query if k == "after"]
    if len(user_ids or ()) > MAX_USERS:
        raise InvalidInput(f"at most {MAX_USERS} user_id filters")
    unknown = sorted(set(types or ()) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"type must be one of {', '.join(EVENT_TYPES)}: not {unknown[0]!r}")
    last_event_id = header(scope, b"last-event-id")
    resume = None
    if last_event_id is not None:
        resume = _event_id(last_event_id.strip(), "Last-Event-ID")
    elif after:
        resume = _event_id(after[0], "after")
    return StreamRequest(token, resume, user_ids, types)


def _authorise(context: AppContext, org: str, request: StreamRequest) -> tuple[int, int]:
    """The checks of the native API's other routes, in one trip to a thread."""
    info = check_token(context.engine, request.token)
    check_scope(info, org)
    return agents.stream_org_id(context.engine, org, request.user_ids), info.id


class EventsEndpoint:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    @staticmethod
    def org_of(path: str) -> str | None:
        found = PATH.fullmatch(path)
        return None if found is None else found.group(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, org: str) -> None:
        try:
            if scope["method"] != "GET":
                raise MethodNotAllowed("GET")
            request = _read(scope)
            oid, token_id = await asyncio.to_thread(_authorise, self.context, org, request)
            wanted = event_filter(request.user_ids, request.types)
            response = await subscriber_response(
                self.context, org, oid, request.resume, wanted, credentials.token(token_id)
            )
        except Exception as exc:
            refused = answer_to(exc) if isinstance(exc, ServiceError) else None
            if refused is None:  # the database, or a bug: logged, and a 503
                log.exception("an event stream could not start")
                refused = answer(ErrorCode.UNAVAILABLE, DATABASE_UNAVAILABLE)
            await send_error(send, refused)
            return
        await response(scope, receive, send)

    def response(self, org: str) -> Response:
        """This endpoint as the answer of another router's route for ``org``."""
        return _Delegated(self, org)


class _Delegated(Response):
    def __init__(self, endpoint: EventsEndpoint, org: str) -> None:
        super().__init__()
        self.endpoint, self.org = endpoint, org

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send, self.org)
