"""The native API's error handlers and their OpenAPI description, both from the one
table of ``http/errors.py``: every error answer is ``{"detail": …, "code": …}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.exceptions import HTTPException

from agentstatus.http.api.models import ResponseBody
from agentstatus.http.errors import (
    ERRORS,
    FOREIGN_ERRORS,
    ErrorAnswer,
    answer,
    answer_to,
    code_for_status,
)
from agentstatus.service.errors import ErrorCode, ServiceError


class Error(ResponseBody):
    """Every error answer of the native API."""

    detail: str | list[dict[str, Any]] = Field(
        description="A message for a person, or (for a request that does not fit this "
        "document) one object per invalid field, as FastAPI reports them."
    )
    code: ErrorCode = Field(description="What went wrong, for programs: stable.")
    problems: list[str] | None = Field(
        None, description="With `import_rejected`: one line per bad row."
    )


def _json(found: ErrorAnswer) -> Response:
    return JSONResponse(found.body(), status_code=found.status, headers=found.headers)


async def _refused(request: Request, exc: Exception) -> Response:
    found = answer_to(exc)
    assert found is not None  # installed only for the classes the table knows
    return _json(found)


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
    return _json(answer(ErrorCode.VALIDATION_ERROR, jsonable_encoder(errors)))


async def _framework_refusal(request: Request, exc: Exception) -> Response:
    """What the framework answers by itself: an unknown path (404), a method (405)."""
    assert isinstance(exc, HTTPException)
    return _json(answer(code_for_status(exc.status_code), exc.detail, exc.headers))


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(HTTPException, _framework_refusal)
    refusals: tuple[type[Exception], ...] = (ServiceError, *FOREIGN_ERRORS)
    for kind in refusals:
        api.add_exception_handler(kind, _refused)


def responses_for(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these codes: one per status, naming its codes."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in codes:
        by_status.setdefault(ERRORS[code].status, []).append(code)
    return {
        status: {
            "model": Error,
            "description": " ".join(f"`{c.value}`: {ERRORS[c].meaning}" for c in found),
        }
        for status, found in by_status.items()
    }


AUTH_RESPONSES = responses_for(
    ErrorCode.BAD_REQUEST,
    ErrorCode.UNAUTHORIZED,
    ErrorCode.FORBIDDEN,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.VALIDATION_ERROR,
)
NOT_FOUND = responses_for(ErrorCode.NOT_FOUND, ErrorCode.ORGANISATION_NOT_FOUND)
CONFLICT = responses_for(ErrorCode.CONFLICT)
CUSTOM_CODE_LIMITED = responses_for(ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE)
UNAVAILABLE = responses_for(ErrorCode.UNAVAILABLE)
TOO_MANY_STREAMS = responses_for(ErrorCode.TOO_MANY_STREAMS)
NO_SECRET_KEY = responses_for(ErrorCode.SECRET_KEY_UNAVAILABLE)
IMPORT_REJECTED = responses_for(
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.VALIDATION_ERROR,
    ErrorCode.IMPORT_REJECTED,
    ErrorCode.IMPORT_INCOMPLETE,
)
