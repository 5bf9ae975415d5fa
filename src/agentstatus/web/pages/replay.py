"""Replay: the floor at a past instant (``floor``) and the changes after it, a page at a
time (``events``), for ``replay.js`` to play forward on the board."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agentstatus.domain.clock import now_ms
from agentstatus.domain.integers import parse_int
from agentstatus.service.errors import InvalidInput
from agentstatus.service.history import read_history
from agentstatus.service.replay import floor_at
from agentstatus.service.timezones import get_timezone
from agentstatus.web.pages.common import Refused, page_request

PAGE = 500
MAX_MS = 2**62  # far beyond any instant, and within the databases' integers


def _refuse(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _instant(text: str, zone_name: str) -> int:
    """``YYYY-MM-DDTHH:MM[:SS]`` on the organisation's clock, as epoch milliseconds."""
    try:
        local = datetime.fromisoformat(text[:32])
    except ValueError:
        raise InvalidInput("at must be a date and time like 2026-12-01T09:30") from None
    if local.tzinfo is not None:
        raise InvalidInput("at is on the organisation's clock: give it without an offset")
    return int(local.replace(tzinfo=ZoneInfo(zone_name)).timestamp() * 1000)


def _whole(text: str | None, name: str, default: int | None = None) -> int:
    if text is None and default is not None:
        return default
    value = parse_int(text, 0, MAX_MS)
    if value is None:
        raise InvalidInput(f"{name} must be a whole number from 0 to {MAX_MS}")
    return value


async def floor(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    engine = page.context.engine
    zone = await asyncio.to_thread(get_timezone, engine, page.org)
    try:
        at_ms = _instant(request.query_params.get("at", ""), zone.key)
    except InvalidInput as exc:
        return _refuse(422, exc.message)
    if at_ms > now_ms():
        return _refuse(422, "at is in the future")
    found = await asyncio.to_thread(floor_at, engine, page.org, at_ms)
    return JSONResponse(
        {
            "at_ms": found.at_ms,
            "cursor": found.cursor,
            "agents": [a.as_json() for a in found.agents],
        }
    )


async def events(request: Request) -> Response:
    try:
        page = await page_request(request, request.path_params["org"])
    except Refused as refused:
        return refused.response
    query = request.query_params
    try:
        after = _whole(query.get("after"), "after")
        until = _whole(query.get("until"), "until")
        found = await asyncio.to_thread(
            read_history,
            page.context.engine,
            page.org,
            end_ms=until + 1,
            after=after,
            limit=PAGE,
            # Only the changes of presence (their kind, domain.event_types.is_change): a
            # warning or a call's event leaves the agent's "since" where its last change
            # put it, on the replayed board as on the live one.
            changes_only=True,
        )
    except InvalidInput as exc:
        return _refuse(422, exc.message)
    return JSONResponse(
        {
            "events": [
                {
                    "id": e.id,
                    "user_id": e.user_id,
                    "new": {"extension": e.new_extension, "status": e.new_status},
                    "at_ms": e.at_ms,
                }
                for e in found.events
            ],
            "next_after": found.next_after,
        }
    )
