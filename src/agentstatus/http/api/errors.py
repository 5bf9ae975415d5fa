"""The one place where refusals become HTTP answers: ``{"detail": "<message>"}`` with the
status code of the service error (plus ``"problems"`` for a rejected CSV import)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from agentstatus.domain.secret_box import SecretKeyError
from agentstatus.http.api.models import ResponseBody
from agentstatus.service.errors import (
    AlreadyExists,
    ImportRejected,
    InvalidInput,
    NotFound,
    ServiceError,
    TooMany,
    Unavailable,
)

RETRY_AFTER_SECONDS = "1"


class ErrorBody(ResponseBody):
    detail: str


class InvalidInputBody(ResponseBody):
    detail: str | list[dict[str, Any]] = Field(
        description="A message, or (for a request that does not fit this document) one "
        "object per invalid field, as FastAPI reports them."
    )


class ImportErrorBody(InvalidInputBody):
    problems: list[str] | None = Field(None, description="One line per bad row.")


def _status_of(exc: ServiceError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AlreadyExists):
        return 409
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, Unavailable):
        return 503
    if isinstance(exc, TooMany):
        return 429
    return 400


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    body: dict[str, object] = {"detail": exc.message}
    if isinstance(exc, ImportRejected):
        body["problems"] = exc.problems
    status = _status_of(exc)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    if isinstance(exc, TooMany):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(body, status_code=status, headers=headers)


async def _integrity_error(request: Request, exc: Exception) -> Response:
    # Two requests raced to create the same thing; the loser gets what a later one would.
    return JSONResponse({"detail": "that conflicts with a concurrent change"}, status_code=409)


async def _unstorable(request: Request, exc: Exception) -> Response:
    # A value the database cannot hold: a NUL character, or too long for its column.
    return JSONResponse({"detail": "a value in the request cannot be stored"}, status_code=422)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"detail": "the database is unavailable; try again"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _no_secret_key(request: Request, exc: Exception) -> Response:
    # The server is not configured for webhooks (the message names the setting, never a key).
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _readable(value: object) -> object:
    """A validation error's part as JSON can carry it: the bytes of a body that is not
    UTF-8 (FastAPI's own handler fails on them with a 500) become text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _readable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_readable(v) for v in value]
    return value


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_readable(e) for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(SecretKeyError, _no_secret_key)
    api.add_exception_handler(ServiceError, _service_error)
    api.add_exception_handler(IntegrityError, _integrity_error)
    api.add_exception_handler(DataError, _unstorable)
    api.add_exception_handler(OperationalError, _database_unavailable)


def _documented(description: str, model: type[ResponseBody] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("The request body cannot be decoded (e.g. JSON that is not UTF-8)"),
    401: _documented("No bearer token, or an unknown or revoked one"),
    403: _documented("The token lacks the role, or is scoped to another organisation"),
    413: _documented("The request body is too large"),
    422: _documented("Invalid input", InvalidInputBody),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _documented("No such organisation, agent, extension or status"),
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _documented("It already exists")}
CUSTOM_CODE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: _documented(
        "Too many failed authentications and custom Codes from this address (Retry-After)"
    ),
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: _documented("The database did not take the change; nothing was applied (Retry-After)"),
}
TOO_MANY_STREAMS: dict[int | str, dict[str, Any]] = {
    429: _documented(
        "This token has AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN streams open on this instance "
        "(Retry-After)"
    ),
}
NO_SECRET_KEY: dict[int | str, dict[str, Any]] = {
    503: _documented("Webhooks are not set up here: PostgreSQL needs AGENTSTATUS_SECRET_KEY"),
}
IMPORT_REJECTED: dict[int | str, dict[str, Any]] = {
    422: _documented(
        "Invalid input, or bad rows (every one listed); nothing was imported", ImportErrorBody
    ),
    503: _documented(
        "The database failed part-way: the rows before were written (the message says how "
        "many); import the same file again to finish (Retry-After)"
    ),
}
