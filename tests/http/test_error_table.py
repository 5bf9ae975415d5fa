"""The one error table (``http/errors.py``): every refusal's class has a code, every code
an HTTP status, and the OpenAPI document lists them all."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

import agentstatus
from agentstatus.domain.secret_box import SecretKeyError
from agentstatus.events.slots import RETRY_AFTER_SECONDS
from agentstatus.http.api.application import create_api
from agentstatus.http.errors import (
    ERRORS,
    ErrorAnswer,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    answer_to,
    code_for_status,
)
from agentstatus.service.errors import (
    ErrorCode,
    ImportIncomplete,
    ImportRejected,
    NotFound,
    OrganisationNotFound,
    ServiceError,
    TooMany,
    Unavailable,
)


def _subclasses(kind: type[ServiceError]) -> set[type[ServiceError]]:
    found = set(kind.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def every_refusal() -> set[type[ServiceError]]:
    """Every ServiceError class of the package, its modules imported first."""
    for module in pkgutil.walk_packages(agentstatus.__path__, "agentstatus."):
        if ".migrations." not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {ServiceError} | _subclasses(ServiceError)


def test_every_code_has_one_row_and_every_refusal_a_code() -> None:
    assert set(ERRORS) == set(ErrorCode)
    refusals = every_refusal()
    assert len(refusals) > 15
    for kind in refusals:
        assert kind.code in ERRORS, kind


def test_codes_are_snake_case_and_statuses_errors() -> None:
    for code, kind in ERRORS.items():
        assert code.value.replace("_", "").isalpha(), code
        assert code.value.islower(), code
        assert 400 <= kind.status < 600, code
        assert kind.meaning.endswith("."), code


@pytest.mark.parametrize(
    ("exc", "status", "code", "headers"),
    [
        (NotFound("no agent"), 404, ErrorCode.NOT_FOUND, {}),
        (OrganisationNotFound("no org"), 404, ErrorCode.ORGANISATION_NOT_FOUND, {}),
        (
            NotFound("no org", code=ErrorCode.ORGANISATION_NOT_FOUND),
            404,
            "organisation_not_found",
            {},
        ),
        (Unavailable("down"), 503, ErrorCode.UNAVAILABLE, {"Retry-After": "1"}),
        (ImportIncomplete("half"), 503, ErrorCode.IMPORT_INCOMPLETE, {"Retry-After": "1"}),
        (TooMany("many", 5), 429, ErrorCode.TOO_MANY_STREAMS, {"Retry-After": "5"}),
        (RateLimited("slow", 7), 429, ErrorCode.RATE_LIMITED, {"Retry-After": "7"}),
        (Unauthenticated("who"), 401, ErrorCode.UNAUTHORIZED, {"WWW-Authenticate": "Bearer"}),
        (MethodNotAllowed("GET"), 405, ErrorCode.METHOD_NOT_ALLOWED, {"Allow": "GET"}),
        (PayloadTooLarge("big"), 413, ErrorCode.PAYLOAD_TOO_LARGE, {"Connection": "close"}),
        (IntegrityError("x", {}, Exception()), 409, ErrorCode.CONFLICT, {}),
        (DataError("x", {}, Exception()), 422, ErrorCode.VALIDATION_ERROR, {}),
        (OperationalError("x", {}, Exception()), 503, ErrorCode.UNAVAILABLE, {"Retry-After": "1"}),
        (SecretKeyError("no key"), 503, ErrorCode.SECRET_KEY_UNAVAILABLE, {}),
    ],
)
def test_each_refusal_is_answered_from_the_table(
    exc: Exception, status: int, code: str, headers: dict[str, str]
) -> None:
    found = answer_to(exc)
    assert found is not None
    assert (found.status, found.code, found.headers) == (status, code, headers)
    assert found.body()["code"] == code
    assert isinstance(found.body()["detail"], str)
    assert "x" not in str(found.detail) or isinstance(exc, ServiceError)  # no SQL leaks


def test_a_stream_cap_keeps_its_own_retry_after() -> None:
    found = answer_to(TooMany("many", RETRY_AFTER_SECONDS))
    assert found is not None
    assert found.headers == {"Retry-After": str(RETRY_AFTER_SECONDS)}


def test_a_rejected_import_lists_its_problems() -> None:
    found = answer_to(ImportRejected(["line 2: bad"]))
    assert found == ErrorAnswer(
        ErrorCode.IMPORT_REJECTED, "1 bad row(s); nothing was imported", {}, ["line 2: bad"]
    )
    assert found.body()["problems"] == ["line 2: bad"]


def test_anything_else_is_no_refusal() -> None:
    assert answer_to(ValueError("a bug")) is None
    assert code_for_status(404) is ErrorCode.NOT_FOUND
    assert code_for_status(405) is ErrorCode.METHOD_NOT_ALLOWED


def _api() -> FastAPI:
    return create_api(None)  # type: ignore[arg-type]  # the document needs no context


def test_the_document_lists_the_codes_and_every_error_answer_has_them() -> None:
    document = _api().openapi()
    schemas = document["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == [c.value for c in ErrorCode]
    assert {"detail", "code"} <= set(schemas["Error"]["required"])
    for code in ErrorCode:
        assert f"`{code.value}`" in document["info"]["description"]
    errors = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                errors += 1
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
                assert "`" in response["description"], (method, path, status)  # names codes
    assert errors > 100


def test_the_event_stream_is_documented_from_the_event_types() -> None:
    from agentstatus.domain.event_types import EVENT_TYPES

    operation = _api().openapi()["paths"]["/api/v1/orgs/{org}/events"]["get"]
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in operation["responses"]["200"]["description"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"org", "Last-Event-ID", "after", "user_id", "type"}
    assert parameters["type"]["schema"]["items"]["enum"] == list(EVENT_TYPES)
    assert operation["security"] == [{"HTTPBearer": []}]
