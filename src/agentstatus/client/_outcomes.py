"""Turning answers into results or exceptions: each answer is read back into its row of
the shared outcomes table (:mod:`agentstatus.wire.outcomes`), or into a Comet ``ERR``
object, and each row has its exception."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..wire import comet, statuses_list
from ..wire.outcomes import STATUS, STATUS_ERRO_MESSAGE, STATUS_ERROR, Row, answered_row
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
    if comet.ERR in fields:
        return _comet_error(call, http_status, fields, context)
    if STATUS_ERROR in fields:
        return _status_error(call, http_status, fields, context)
    return None


def _known_shape(fields: Mapping[str, Any]) -> bool:
    return any(key in fields for key in (comet.ERR, statuses_list.STATUSES, STATUS_ERROR))


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
    err = fields.get(comet.ERR)
    if err == comet.ERR_OK and http_status < 400:
        return None
    if http_status >= 500:
        return UpdateFailed(_server_failed(call, http_status), **context)
    if http_status == 403:
        return AuthorizationFailed(_NOT_ALLOWED, **context)
    description = str(fields.get(comet.DESC, ""))
    # ERR 1 is every refusal of the extensions' endpoints; GetQueuesCallers answers ERR 2
    # (Voicenter's "the values sent are incorrect") for a refused Code. The client always
    # sends a Code, so its ERR 1 is a refused one too.
    if err == comet.ERR_REFUSED or (
        err == comet.ERR_INVALID and description == comet.DESC_UNAUTHORIZED
    ):
        return AuthorizationFailed(
            "authorization failed: the Code matches no organisation", **context
        )
    return AgentStatusError(f"the server refused the request: {description}", **context)


_NOT_ALLOWED = "authorization failed: this address is not on the organisation's allow-list"


def _status_error(
    call: Call, http_status: int, fields: Mapping[str, Any], context: dict[str, Any]
) -> AgentStatusError | None:
    subject = call.subject
    user, extension = subject.get("user_id"), subject.get("extension")
    match answered_row(fields, http_status):
        case Row.OK:
            return None
        case Row.MISSING_CODE_OR_USER:
            what = "the Code or the user id" if call.changes_state else "the Code"
            return MissingParameter(f"{what} is missing or empty", **context)
        case Row.MISSING_EXTENSION:
            return MissingParameter("the extension is missing or empty", **context)
        case Row.MISSING_STATUS:
            return MissingParameter("the status is missing or empty", **context)
        case Row.ADDRESS_NOT_ALLOWED:
            return AuthorizationFailed(_NOT_ALLOWED, **context)
        case Row.UNREADABLE | Row.AUTHENTICATION_FAILED | Row.RATE_LIMITED:
            who = f", or user {user!r} is not an active agent of it" if call.changes_state else ""
            return AuthorizationFailed(
                f"authorization failed: the Code matches no organisation{who}", **context
            )
        case Row.UNKNOWN_EXTENSION:
            return ExtensionNotFound(
                f"extension {extension!r} is not an extension of this organisation", **context
            )
        case Row.EXTENSION_IN_USE:
            return ExtensionInUse(
                f"extension {extension!r} is already in use by another agent", **context
            )
        case Row.STATUS_NOT_SUPPORTED:
            return StatusNotSupported(
                f"status {subject.get('status')!r} is not an enabled status of this organisation",
                **context,
            )
        case Row.UPDATE_FAILED:
            return UpdateFailed(_server_failed(call, http_status), **context)
    if http_status >= 500:
        return UpdateFailed(_server_failed(call, http_status), **context)
    return AgentStatusError(
        f"unexpected answer: Status={fields.get(STATUS)!r}, "
        f"StatusError={fields.get(STATUS_ERROR)!r}, "
        f"message {fields.get(STATUS_ERRO_MESSAGE)!r}",
        **context,
    )
