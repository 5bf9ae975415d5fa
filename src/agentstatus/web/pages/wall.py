"""The wall (issue 24): the floor on a screen of its own, for a TV or a second monitor. A
tile per agent filled with its status's colour, the queues' figures above, kept current by
``wall.js`` from the organisation's event stream (the board's: the same fan-out, the same
resume, started where the wall's state ends).

The page is a shell; its script reads everything it shows from ``/o/{org}/wall/state``
(the agents, the catalogue, the calls, the statuses queued as next, the queues) and then
``/o/{org}/wall/events``. Every data request is answered for whoever
``wall_access.wall_viewer`` lets in, so a read-only wall link (a token in the page's
fragment, sent as ``Authorization: Bearer``) needs only a new answer there.

Queues: a ``queue.caller_*`` event on the stream makes the script read
``/o/{org}/wall/queues`` again (coalesced: at most one read in flight and one after it);
the figures (service level, answered, abandoned) are the day's, counted by the database,
which the script could not count from events alone after a reload.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agentstatus.domain.clock import now_ms
from agentstatus.domain.contrast import ink_for
from agentstatus.domain.queues import QueueNow
from agentstatus.events.fanout import EventFilter
from agentstatus.http.context import AppContext
from agentstatus.http.events_endpoint import subscriber_response
from agentstatus.service import agents, statuses
from agentstatus.service.board import board_page
from agentstatus.service.errors import InvalidInput, NotFound, TooMany, Unavailable
from agentstatus.service.next_status import next_statuses_of_org
from agentstatus.service.phone_calls import calls_of_org
from agentstatus.service.queues import queues_now
from agentstatus.service.wrap_up import get_wrap_up
from agentstatus.storage.types import OperationalError
from agentstatus.web.pages.common import Refused, page_request, pages_of, render
from agentstatus.web.pages.wall_access import WallRefused, WallViewer, wall_viewer
from agentstatus.web.status_names import displayed
from agentstatus.web.stream import resume_position
from agentstatus.web.visitors import context_of, language_of, visitor

WALL_MAX = 5000
"""Agents on one wall: 200 fill a 1920x1080 screen with readable tiles, 1,000 with small
ones; past a few thousand a wall is no longer read by anyone (the board pages them)."""


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store", **(headers or {})},
    )


def _unavailable(detail: str) -> Response:
    return _json({"detail": detail}, 503, {"retry-after": "1"})


async def wall(request: Request) -> Response:
    """``GET /o/{org}/wall``: the page (a shell; the script fills it)."""
    org = request.path_params["org"]
    if await visitor(request) is None:
        # A TV opened by a wall link: the token is in the fragment, which no server sees,
        # so the shell is served to anyone (it holds nothing but the organisation's name,
        # which the link's URL shows anyway); its script signs in with the token, or sends
        # a visitor without one to the sign-in page.
        pages = pages_of(request)
        code = language_of(request)
        values = {"org": org, "signed_in": False, "visitor": None}
        response = pages.render(code, "wall.html", values)
        response.headers["cache-control"] = "no-store"
        response.headers["referrer-policy"] = "no-referrer"
        return response
    try:
        page = await page_request(request, org)
    except Refused as refused:
        return refused.response
    return render(page, "wall.html", {"signed_in": True})


def queue_json(queue: QueueNow) -> dict[str, object]:
    """A queue as the wall shows it: who waits now (the longest since when) and today."""
    today = queue.today
    return {
        "name": queue.settings.name,
        "waiting": len(queue.waiting),
        "longest_since_ms": min((w.joined_ms for w in queue.waiting), default=None),
        "service_level": today.service_level,
        "service_level_seconds": queue.settings.service_level_seconds,
        "average_wait_ms": today.average_wait_ms,
        "offered": today.offered,
        "answered": today.answered,
        "abandoned": today.abandoned,
    }


def _state(context: AppContext, viewer: WallViewer) -> dict[str, Any]:
    """Everything the wall shows, read in one thread (the agents and the cursor agree;
    the rest is read just after, as the board does)."""
    engine, org = context.engine, viewer.org
    taken = board_page(
        engine, context.fanout.fence, org, needle="", status=None, offset=0, limit=WALL_MAX
    )
    catalogue = displayed(statuses.list_statuses(engine, org), viewer.language)
    calls = calls_of_org(engine, org)
    nexts = next_statuses_of_org(engine, org)
    wrap_up = get_wrap_up(engine, org)
    at = now_ms()
    return {
        "org": org,
        "cursor": taken.cursor,
        "total": taken.total,
        "statuses": [
            {
                "id": s.id,
                "name": s.name,
                "color": s.color,
                "ink": ink_for(s.color),
                "available": s.available,
                "limit_seconds": s.limit_seconds,
            }
            for s in catalogue
        ],
        "wrap_up_status": wrap_up.status,
        "agents": [
            {
                "user_id": a.user_id,
                "name": a.name,
                "extension": a.extension,
                "status": a.status,
                "since_ms": a.since_ms,
                "calls": [
                    {"id": c.id, "state": c.state.value} for c in calls.get(a.extension or "", [])
                ],
                "next_status": nexts.get(a.user_id),
            }
            for a in taken.agents
        ],
        "queues": [queue_json(q) for q in queues_now(engine, org, at)],
        "now_ms": at,
    }


async def state(request: Request) -> Response:
    """``GET /o/{org}/wall/state``: the wall's agents, catalogue, calls and queues."""
    try:
        viewer = await wall_viewer(request, request.path_params["org"])
        body = await asyncio.to_thread(_state, context_of(request), viewer)
    except WallRefused as refused:
        return refused.response
    except NotFound as exc:
        return _json({"detail": exc.message}, 404)
    except (TimeoutError, OperationalError):  # no consistent snapshot in time
        return _unavailable("the wall cannot be read now; try again")
    return _json(body)


async def queues(request: Request) -> Response:
    """``GET /o/{org}/wall/queues``: each queue's callers waiting and figures of today."""
    try:
        viewer = await wall_viewer(request, request.path_params["org"])
        engine = context_of(request).engine
        at = now_ms()
        found = await asyncio.to_thread(queues_now, engine, viewer.org, at)
    except WallRefused as refused:
        return refused.response
    except NotFound as exc:
        return _json({"detail": exc.message}, 404)
    except OperationalError:
        return _unavailable("the queues cannot be read now; try again")
    return _json({"queues": [queue_json(q) for q in found], "now_ms": at})


class Events:
    """``GET /o/{org}/wall/events``: the organisation's event stream (every agent's
    events and the queues'), resumed by ``Last-Event-ID`` or ``?after=``, for the wall's
    viewer. The board's stream, behind the wall's access."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._response(request)
        await response(scope, receive, send)

    async def _response(self, request: Request) -> Response:
        try:
            viewer = await wall_viewer(request, request.path_params["org"])
            resume = resume_position(request)
            context = context_of(request)
            oid = await asyncio.to_thread(agents.stream_org_id, context.engine, viewer.org, None)
            return await subscriber_response(
                context, viewer.org, oid, resume, EventFilter(), viewer.credential
            )
        except WallRefused as refused:
            return refused.response
        except NotFound as exc:
            return _json({"detail": exc.message}, 404)
        except InvalidInput as exc:
            return _json({"detail": exc.message}, 422)
        except TooMany as exc:
            return _json({"detail": exc.message}, 429, {"retry-after": str(exc.retry_after)})
        except (Unavailable, OperationalError):
            return _unavailable("the event stream cannot start now; try again")
