"""The board's event stream: the API's stream (``subscriber_response``), authorised by the
session cookie instead of a bearer token. Same-origin only: the cookie is ``SameSite=Lax``
and no CORS header is sent, so another site can neither open it with the cookie nor read it.
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agentstatus.domain.integers import parse_int
from agentstatus.events.credentials import session
from agentstatus.http.events_endpoint import MAX_EVENT_ID, subscriber_response
from agentstatus.http.events_endpoint import event_filter as make_filter
from agentstatus.service import agents
from agentstatus.service.errors import InvalidInput, NotFound, TooMany, Unavailable
from agentstatus.web.visitors import context_of, visitor

MAX_USERS = 1000


def _refuse(status: int, detail: str) -> Response:
    headers = {"retry-after": "1"} if status == 503 else {}
    return Response(
        orjson.dumps({"detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def resume_position(request: Request) -> int | None:
    """Where a board's or wall's stream resumes: ``Last-Event-ID`` or ``?after=``."""
    text = request.headers.get("last-event-id") or request.query_params.get("after")
    if text is None:
        return None
    value = parse_int(text.strip(), 0, MAX_EVENT_ID)
    if value is None:
        raise InvalidInput(f"the resume position must be a whole number from 0 to {MAX_EVENT_ID}")
    return value


class SessionEvents:
    """``GET /o/{org}/events``: Server-Sent Events for the signed-in visitor."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._response(request)
        await response(scope, receive, send)

    async def _response(self, request: Request) -> Response:
        found = await visitor(request)
        if found is None:
            return _refuse(401, "sign in first")
        org = request.path_params["org"]
        if not found.user.may_access(org):
            return _refuse(403, "you may not see this organisation")
        context = context_of(request)
        user_ids = request.query_params.getlist("user_id") or None
        try:
            if len(user_ids or ()) > MAX_USERS:
                raise InvalidInput(f"at most {MAX_USERS} user_id filters")
            resume = resume_position(request)
            oid = await asyncio.to_thread(agents.stream_org_id, context.engine, org, user_ids)
            return await subscriber_response(
                context,
                org,
                oid,
                resume,
                make_filter(user_ids, None),
                session(found.session_id, found.user.id),
            )
        except NotFound as exc:
            return _refuse(404, exc.message)
        except InvalidInput as exc:
            return _refuse(422, exc.message)
        except TooMany as exc:
            response = _refuse(429, exc.message)
            response.headers["retry-after"] = str(exc.retry_after)
            return response
        except Unavailable as exc:
            return _refuse(503, exc.message)
