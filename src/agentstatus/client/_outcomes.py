"""Turning answers into results or exceptions, exactly per the outcomes table of SPEC.md
3.1 (``Status``, ``StatusError``, HTTP status and message) and the Comet ``ERR`` objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._exceptions import (
    AgentStatusError,
    AuthorizationFailed,
    ExtensionInUse,
    ExtensionNotFound,
    MissingParameter,
    RateLimited,
    StatusNotSupported,
    UpdateFailed,
)
from ._retry import parse_retry_after
from ._wire import Call


def decode(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def checked(call: Call, response: httpx.Response, expect: str) -> dict[str, Any]:
    """The answer's JSON object when it is a success holding ``expect``; otherwise the
    exception that the answer means."""
    fields = decode(response)
    error = _error(call, response, fields)
    if error is None and (fields is None or expect not in fields):
        error = AgentStatusError(
            f"unexpected answer from {call.redacted.url.path}: no {expect!r} in it",
            request=call.redacted,
            http_status=response.status_code,
            fields=fields,
        )
    if error is not None:
        raise error
    assert fields is not None
    return fields


def _error(
    call: Call, response: httpx.Response, fields: dict[str, Any] | None
) -> AgentStatusError | None:
    context: dict[str, Any] = {
        "request": call.redacted,
        "http_status": response.status_code,
        "fields": fields,
    }
    http_status = response.status_code
    if http_status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"))
        after = "" if wait is None else f"; try again in {wait:g} seconds"
        return RateLimited(
            f"too many failed authentications from this address{after}",
            retry_after=wait,
            **context,
        )
    if fields is None or not _known_shape(fields):
        if http_status >= 500:
            return UpdateFailed(_server_failed(call, http_status), **context)
        return AgentStatusError(
            f"unexpected answer from {call.redacted.url.path}: HTTP {http_status}, "
            "not a Voicenter answer (is the base URL right?)",
            **context,
        )
    if "ERR" in fields:
        return _comet_error(call, http_status, fields, context)
    if "StatusError" in fields:
        return _status_error(call, http_status, fields, context)
    return None


def _known_shape(fields: Mapping[str, Any]) -> bool:
    return any(key in fields for key in ("ERR", "Statuses", "StatusError"))


def _server_failed(call: Call, http_status: int) -> str:
    if call.changes_state:
        return (
            f"the server could not store the change (HTTP {http_status}); "
            "it was not applied, and sending it again is safe"
        )
    return f"the server could not answer (HTTP {http_status}); try again later"


def _comet_error(
    call: Call, http_status: int, fields: Mapping[str, Any], context: dict[str, Any]
) -> AgentStatusError | None:
    if fields.get("ERR") == 0 and http_status < 400:
        return None
    if http_status >= 500:
        return UpdateFailed(_server_failed(call, http_status), **context)
    if http_status == 403:
        return AuthorizationFailed(_NOT_ALLOWED, **context)
    description = str(fields.get("DESC", ""))
    if "unauthori" in description.lower():
        return AuthorizationFailed(
            "authorization failed: the Code matches no organisation", **context
        )
    return AgentStatusError(f"the server refused the request: {description}", **context)


_NOT_ALLOWED = "authorization failed: this address is not on the organisation's allow-list"


def _status_error(
    call: Call, http_status: int, fields: Mapping[str, Any], context: dict[str, Any]
) -> AgentStatusError | None:
    pair = (fields.get("Status"), fields.get("StatusError"))
    subject = call.subject
    user, extension = subject.get("user_id"), subject.get("extension")
    if pair == (1, 1):
        return None
    if pair == (2, 6):
        what = "the Code or the user id" if call.changes_state else "the Code"
        return MissingParameter(f"{what} is missing or empty", **context)
    if pair == (3, 6):
        return MissingParameter("the extension is missing or empty", **context)
    if pair == (4, 6):
        return MissingParameter("the status is missing or empty", **context)
    if pair == (2, 0):
        if http_status == 403:
            return AuthorizationFailed(_NOT_ALLOWED, **context)
        who = f", or user {user!r} is not an active agent of it" if call.changes_state else ""
        return AuthorizationFailed(
            f"authorization failed: the Code matches no organisation{who}", **context
        )
    if pair == (3, 3):
        if "in use" in str(fields.get("StatusErroMessage", "")).lower():
            return ExtensionInUse(
                f"extension {extension!r} is already in use by another agent", **context
            )
        return ExtensionNotFound(
            f"extension {extension!r} is not an extension of this organisation", **context
        )
    if pair == (4, 0):
        return StatusNotSupported(
            f"status {subject.get('status')!r} is not an enabled status of this organisation",
            **context,
        )
    if pair == (0, 4) or http_status >= 500:
        return UpdateFailed(_server_failed(call, http_status), **context)
    return AgentStatusError(
        f"unexpected answer: Status={pair[0]!r}, StatusError={pair[1]!r}, "
        f"message {fields.get('StatusErroMessage')!r}",
        **context,
    )
