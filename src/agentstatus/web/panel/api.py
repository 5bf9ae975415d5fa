"""The panel's JSON and its event stream, for the panel's script wherever it runs: in the
panel page (same origin) or in the CRM's page (across origins, see ``embedding.py``).

Every request carries the link's token as ``Authorization: Bearer``; the script holds it
in memory, taken from the link's fragment, so it is never in a URL a server sees, never
in a ``Referer`` and never in an access log. What a link can reach is its agent: the
state, the agent's own events, and changes of the agent's status with source ``panel``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.integers import INT32_MAX, in_range, parse_int
from agentstatus.events.credentials import panel as panel_credential
from agentstatus.http.errors import answer_to
from agentstatus.http.events_endpoint import MAX_EVENT_ID, event_filter, subscriber_response
from agentstatus.http.requests import BodyIncomplete, BodyTooLarge, read_body, resolve_client
from agentstatus.service import statuses
from agentstatus.service.after_call import after_call, queued_instead
from agentstatus.service.errors import ErrorCode, TooMany, Unavailable
from agentstatus.service.panel_links import LinkRefusal, PanelGrant, verify_link
from agentstatus.service.phone_calls import calls_of_org
from agentstatus.service.phone_registration import phones_of_org
from agentstatus.service.presence import agent_presence
from agentstatus.storage.types import Engine, OperationalError
from agentstatus.web.i18n import LANGUAGES, choose, language
from agentstatus.web.panel import texts
from agentstatus.web.queue_strip import agent_queues
from agentstatus.web.status_names import displayed
from agentstatus.web.templating import Pages
from agentstatus.web.visitors import context_of
from agentstatus.wire.outcomes import Row

MAX_BODY = 1024
MAX_EXTENSION = 128
_REFUSALS = {
    LinkRefusal.UNKNOWN: texts.LINK_UNKNOWN,
    LinkRefusal.EXPIRED: texts.LINK_EXPIRED,
    LinkRefusal.REVOKED: texts.LINK_REVOKED,
}
_ROWS = {
    Row.EXTENSION_IN_USE: ("extension_in_use", 409, texts.EXTENSION_IN_USE),
    Row.UNKNOWN_EXTENSION: ("unknown_extension", 422, texts.UNKNOWN_EXTENSION),
    Row.STATUS_NOT_SUPPORTED: ("status_unavailable", 422, texts.STATUS_UNAVAILABLE),
    Row.AUTHENTICATION_FAILED: ("revoked", 401, texts.LINK_REVOKED),
    Row.UPDATE_FAILED: ("not_saved", 503, texts.NOT_SAVED),
}


# The panel's words for the errors of the API's table (http/errors.py) it may meet; the
# status is the table's, the ``reason`` the panel's script reads.
_SAID = {
    ErrorCode.UNAVAILABLE: ("unavailable", texts.UNAVAILABLE),
    ErrorCode.TOO_MANY_STREAMS: ("too_many", texts.TOO_MANY),
}
# What the panel answers that way (anything else is a bug, answered 500 by routes.py).
_FAILURES = (Unavailable, TooMany, OperationalError)


class Refusal(Exception):
    """The request is answered with ``{"detail": words, "reason": key}``."""

    def __init__(self, status: int, reason: str, message: str, **values: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.message, self.values = status, reason, message, values


def panel_language(request: Request) -> str:
    """``?lang=`` when it names a language we have, else the browser's best match."""
    wanted = request.query_params.get("lang")
    return choose(wanted if wanted in LANGUAGES else None, request.headers.get("accept-language"))


def _say(request: Request, message: str, **values: str) -> str:
    pages: Pages = request.app.state.pages
    said = pages.gettext(panel_language(request), message)
    return said % values if values else said


def refusal_response(request: Request, refusal: Refusal) -> Response:
    headers = {"retry-after": "1"} if refusal.status in (429, 503) else {}
    if refusal.status == 401:
        headers["www-authenticate"] = 'Bearer error="invalid_token"'
    body = {"detail": _say(request, refusal.message, **refusal.values), "reason": refusal.reason}
    return _json(body, refusal.status, headers)


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store", **(headers or {})},
    )


async def _grant(request: Request) -> PanelGrant:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, LinkRefusal.UNKNOWN.value, texts.LINK_UNKNOWN)
    context = context_of(request)
    found = await asyncio.to_thread(
        verify_link, context.engine, request.path_params["org"], token.strip()
    )
    if isinstance(found, LinkRefusal):
        raise Refusal(401, found.value, _REFUSALS[found])
    return found


def _refusal_of(exc: Exception) -> Refusal:
    """A failure of ``_FAILURES`` as the panel words it."""
    found = answer_to(exc)
    assert found is not None
    reason, words = _SAID.get(found.code, _SAID[ErrorCode.UNAVAILABLE])
    return Refusal(found.status, reason, words)


def answers(handler: Any) -> Any:
    """Turns a Refusal raised by ``handler`` into its JSON answer."""

    async def answered(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except Refusal as refusal:
            return refusal_response(request, refusal)
        except _FAILURES as exc:
            return refusal_response(request, _refusal_of(exc))
        return response

    return answered


@answers
async def state(request: Request) -> Response:
    """``GET /panel/{org}/api/state``: who, where, the statuses to choose from, the words."""
    grant = await _grant(request)
    engine = context_of(request).engine
    found = await asyncio.to_thread(agent_presence, engine, grant.agent_id)
    catalogue = await asyncio.to_thread(
        statuses.list_statuses, engine, grant.org, enabled_only=True
    )
    if found is None:  # the agent's row went between the two reads
        raise Refusal(401, LinkRefusal.REVOKED.value, texts.LINK_REVOKED)
    live = await asyncio.to_thread(calls_of_org, engine, grant.org)
    phones = await asyncio.to_thread(phones_of_org, engine, grant.org)
    phone = phones.get(found.extension or "")
    code = panel_language(request)
    catalogue = displayed(catalogue, code)  # the panel is a page: the reader's names
    return _json(
        {
            "agent": {"user_id": grant.user_id, "name": found.name},
            "fixed_extension": grant.extension,
            "presence": {
                "extension": found.extension,
                "status": found.status,
                "since": to_iso(found.since_ms),
            },
            "calls": [c.as_json() for c in live.get(found.extension or "", [])],
            # The phone of the extension: registered, unregistered, unknown (SPEC 8).
            "phone": {
                "extension": found.extension,
                "phone": "unknown" if phone is None else phone.value,
            },
            "statuses": [
                {
                    "id": s.id,
                    "name": s.name,
                    "color": s.color,
                    "available": s.available,
                    "limit_seconds": s.limit_seconds,
                }
                for s in catalogue
            ],
            "after_call": (
                await asyncio.to_thread(after_call, engine, grant.org_id, grant.agent_id)
            ).as_json(),
            # The callers waiting in the agent's queues (None: no phone system).
            "queues": await _queues_json(engine, grant),
            "expires_at": to_iso(grant.expires_ms),
            "now": to_iso(now_ms()),
            "language": code,
            "direction": language(code).direction,
            "texts": {key: _say(request, text) for key, text in texts.UI.items()},
        }
    )


async def _queues_json(engine: Engine, grant: PanelGrant) -> list[dict[str, object]] | None:
    found = await asyncio.to_thread(agent_queues, engine, grant.org, now_ms())
    return None if found is None else [q.as_json() for q in found]


@answers
async def queues(request: Request) -> Response:
    """``GET /panel/{org}/api/queues``: the callers waiting in the agent's queues, how
    many and since when the longest waits, asked every few seconds while the panel is in
    view. Not on the panel's stream: that carries the agent's own events only, and a
    caller's event (its number, the agent who answered) is nobody's to see there."""
    grant = await _grant(request)
    engine = context_of(request).engine
    return _json({"queues": await _queues_json(engine, grant), "now": to_iso(now_ms())})


async def _change_body(request: Request) -> tuple[int, str | None]:
    try:
        raw = await read_body(request.scope, request.receive, MAX_BODY)
    except BodyTooLarge:
        raise Refusal(413, "bad_request", texts.BAD_REQUEST) from None
    except BodyIncomplete:
        raise Refusal(400, "bad_request", texts.BAD_REQUEST) from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refusal(422, "bad_request", texts.BAD_REQUEST) from None
    status = body.get("status") if isinstance(body, dict) else None
    extension = body.get("extension") if isinstance(body, dict) else None
    if not in_range(status, 0, INT32_MAX):
        raise Refusal(422, "bad_request", texts.BAD_REQUEST)
    if extension is not None and (not isinstance(extension, str) or len(extension) > MAX_EXTENSION):
        raise Refusal(422, "bad_request", texts.BAD_REQUEST)
    return status, (extension or "").strip() or None


@answers
async def change(request: Request) -> Response:
    """``POST /panel/{org}/api/status`` with ``{"status": N, "extension": "…"}``: the
    agent's change, through the one change path, with source ``panel``. The extension is
    the link's when it fixes one, else the one given, else the one the agent holds."""
    grant = await _grant(request)
    wanted, given = await _change_body(request)
    context = context_of(request)
    queued = await asyncio.to_thread(
        queued_instead, context.engine, grant.org_id, grant.agent_id, wanted
    )
    if queued is not None:  # on a call: applied when the call and its wrap-up end
        context.hub.notify(grant.org_id)
        return _json({"presence": await presence_json(context.engine, grant), "queued": wanted})
    extension = None
    if wanted != LOGOUT:
        extension = grant.extension or given
        if extension is None:
            current = await asyncio.to_thread(agent_presence, context.engine, grant.agent_id)
            extension = None if current is None else current.extension
        if extension is None:
            raise Refusal(422, "need_extension", texts.NEED_EXTENSION)
    command = StatusCommand(
        grant.user_id,
        extension,
        wanted,
        Source.PANEL,
        client_addr=resolve_client(request.scope, context.trusted_proxies),
        org_id=grant.org_id,
        # The agent itself, through this link (links have no label): which link, should
        # one leak and need revoking.
        actor=f"panel-link:{grant.link_id}",
    )
    result = await context.changes.apply(command)
    if result.row is not Row.OK:
        reason, status, message = _ROWS.get(result.row, ("not_saved", 503, texts.NOT_SAVED))
        raise Refusal(status, reason, message, extension=extension or "")
    found = await asyncio.to_thread(agent_presence, context.engine, grant.agent_id)
    if found is None:
        raise Refusal(401, LinkRefusal.REVOKED.value, texts.LINK_REVOKED)
    return _json(
        {
            "presence": {
                "extension": found.extension,
                "status": found.status,
                "since": to_iso(found.since_ms),
            },
            "event_id": result.history_id,
        }
    )


async def presence_json(engine: Engine, grant: PanelGrant) -> dict[str, object]:
    found = await asyncio.to_thread(agent_presence, engine, grant.agent_id)
    if found is None:
        raise Refusal(401, LinkRefusal.REVOKED.value, texts.LINK_REVOKED)
    return {"extension": found.extension, "status": found.status, "since": to_iso(found.since_ms)}


grant_of = _grant
json_answer = _json


def _resume(request: Request) -> int | None:
    text = request.headers.get("last-event-id")
    if text is None:
        return None
    value = parse_int(text.strip(), 0, MAX_EVENT_ID)
    if value is None:
        raise Refusal(422, "bad_request", texts.BAD_REQUEST)
    return value


class Events:
    """``GET /panel/{org}/api/events``: the agent's own events (a snapshot of the agent,
    then every change of it), resumable by ``Last-Event-ID``."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        try:
            grant = await _grant(request)
            resume = _resume(request)
            response: Response = await subscriber_response(
                context_of(request),
                grant.org,
                grant.org_id,
                resume,
                event_filter([grant.user_id], None),
                panel_credential(grant.link_id, grant.agent_id),
            )
        except Refusal as refusal:
            response = refusal_response(request, refusal)
        except _FAILURES as exc:
            response = refusal_response(request, _refusal_of(exc))
        await response(scope, receive, send)
