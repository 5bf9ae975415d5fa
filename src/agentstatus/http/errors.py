"""The one table from an error to its HTTP answer, for every handler that answers the
native API's way: the FastAPI routes (``http/api/errors.py``), the raw event stream
(``http/events_endpoint.py``) and the agent's panel (``web/panel/api.py``, which words the
answer in the reader's language).

An error's ``code`` comes from its class (``service/errors.py``); the table gives each
code its HTTP status. The answer is ``{"detail": "<message>", "code": "<code>"}`` (plus
``"problems"`` for a rejected import). The Voicenter endpoints are not in this table: their
answers are another contract (``wire/outcomes.py``, rendered by ``http/voicenter/answers.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from agentstatus.domain.secret_box import SecretKeyError
from agentstatus.service.errors import ErrorCode, ImportRejected, ServiceError, TooMany
from agentstatus.storage.types import DataError, IntegrityError, OperationalError

DATABASE_UNAVAILABLE = "the database is unavailable; try again"
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class Kind:
    """What a code answers: its HTTP status, what it means (for the OpenAPI document), and
    whether a ``Retry-After`` goes with it when the error does not say when."""

    status: int
    meaning: str
    retry: bool = False


ERRORS: Mapping[ErrorCode, Kind] = {
    ErrorCode.BAD_REQUEST: Kind(400, "The request body cannot be decoded."),
    ErrorCode.UNAUTHORIZED: Kind(401, "No bearer token, or an unknown or revoked one."),
    ErrorCode.FORBIDDEN: Kind(
        403,
        "The token lacks the role, or is scoped to another organisation (also when that "
        "organisation does not exist).",
    ),
    ErrorCode.NOT_FOUND: Kind(404, "No such agent, extension, status, endpoint, link or path."),
    ErrorCode.ORGANISATION_NOT_FOUND: Kind(404, "No organisation of that name."),
    ErrorCode.METHOD_NOT_ALLOWED: Kind(405, "The path does not take this method."),
    ErrorCode.CONFLICT: Kind(409, "It already exists, or a concurrent change took it first."),
    ErrorCode.PAYLOAD_TOO_LARGE: Kind(413, "The request body is over 1 MiB (16 MiB for CSV)."),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: Kind(415, "An import whose body is not text/csv."),
    ErrorCode.VALIDATION_ERROR: Kind(
        422,
        "Invalid input; a request that does not fit this document gets one object per "
        "invalid field as `detail`.",
    ),
    ErrorCode.IMPORT_REJECTED: Kind(
        422, "Bad rows, every one listed in `problems`; nothing was imported."
    ),
    ErrorCode.RATE_LIMITED: Kind(
        429, "Too many failed authentications and custom Codes from this address (Retry-After)."
    ),
    ErrorCode.TOO_MANY_STREAMS: Kind(
        429,
        "This token has AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN event streams open on this "
        "instance (Retry-After).",
    ),
    ErrorCode.UNAVAILABLE: Kind(
        503, "The database did not take the change; nothing was applied (Retry-After).", True
    ),
    ErrorCode.IMPORT_INCOMPLETE: Kind(
        503,
        "The database failed part-way: the rows before were written (the message says how "
        "many); import the same file again to finish (Retry-After).",
        True,
    ),
    ErrorCode.SECRET_KEY_UNAVAILABLE: Kind(
        503,
        "Webhooks and phone systems are not set up here: PostgreSQL needs AGENTSTATUS_SECRET_KEY.",
    ),
    ErrorCode.AGENT_NOT_FOUND: Kind(404, "No active agent with that user id in the organisation."),
    ErrorCode.STATUS_NOT_AVAILABLE: Kind(
        422, "No such status in the organisation's catalogue, or it is disabled."
    ),
    ErrorCode.EXTENSION_NOT_FOUND: Kind(422, "No such extension in the organisation."),
    ErrorCode.EXTENSION_REQUIRED: Kind(
        422, "The agent is logged out: name the extension to put it at."
    ),
    ErrorCode.EXTENSION_IN_USE: Kind(409, "Another agent holds that extension."),
    ErrorCode.INVALID_REASON: Kind(
        422, "The reason is longer than 200 characters or holds control characters."
    ),
    ErrorCode.NOT_ON_CALL: Kind(
        409,
        "A next status for an agent neither on a call nor in wrap-up: set the status itself.",
    ),
    ErrorCode.QUEUE_NOT_FOUND: Kind(
        404, "No queue of that name was heard of: a queue is known from its first caller."
    ),
}

# The code of an HTTP status the framework answers by itself (an unknown path, a method).
_BY_STATUS: Mapping[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.UNAVAILABLE,
}

# Errors raised below the service layer: their code and a message that reveals nothing.
_FOREIGN: tuple[tuple[type[Exception], ErrorCode, str | None], ...] = (
    # Two requests raced to create the same thing; the loser gets what a later one would.
    (IntegrityError, ErrorCode.CONFLICT, "that conflicts with a concurrent change"),
    # A value the database cannot hold: a NUL character, or too long for its column.
    (DataError, ErrorCode.VALIDATION_ERROR, "a value in the request cannot be stored"),
    (OperationalError, ErrorCode.UNAVAILABLE, DATABASE_UNAVAILABLE),
    # The message names the setting, never a key.
    (SecretKeyError, ErrorCode.SECRET_KEY_UNAVAILABLE, None),
)
FOREIGN_ERRORS = tuple(kind for kind, _, _ in _FOREIGN)


class Refused(ServiceError):
    """A refusal of the HTTP layer itself, before any operation runs; its headers go with
    the answer."""

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = dict(headers or {})


class Unauthenticated(Refused):
    """No bearer token, or an unknown or revoked one (the challenge says which)."""

    code = ErrorCode.UNAUTHORIZED

    def __init__(self, message: str, challenge: str = "Bearer") -> None:
        super().__init__(message, {"WWW-Authenticate": challenge})


class Forbidden(Refused):
    """The token may not do this here."""

    code = ErrorCode.FORBIDDEN


class MethodNotAllowed(Refused):
    code = ErrorCode.METHOD_NOT_ALLOWED

    def __init__(self, allowed: str) -> None:
        super().__init__("Method Not Allowed", {"Allow": allowed})


class PayloadTooLarge(Refused):
    code = ErrorCode.PAYLOAD_TOO_LARGE

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Connection": "close"})


class UnsupportedMediaType(Refused):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class RateLimited(Refused):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"Retry-After": str(retry_after)})


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """One error as the API answers it."""

    code: ErrorCode
    detail: object
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] | None = None

    @property
    def status(self) -> int:
        return ERRORS[self.code].status

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"detail": self.detail, "code": self.code.value}
        if self.problems is not None:
            body["problems"] = self.problems
        return body

    def json(self) -> bytes:
        return orjson.dumps(self.body())

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(k.lower().encode(), v.encode("latin-1")) for k, v in self.headers.items()]


def answer(
    code: ErrorCode, detail: object, headers: Mapping[str, str] | None = None
) -> ErrorAnswer:
    """The answer of ``code``, with ``Retry-After: 1`` when its kind asks for one and
    ``headers`` does not say when."""
    found = dict(headers or {})
    if ERRORS[code].retry and not any(k.lower() == "retry-after" for k in found):
        found["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return ErrorAnswer(code, detail, found)


def answer_to(exc: BaseException) -> ErrorAnswer | None:
    """The answer to a refusal, or None for any other exception (a bug)."""
    if isinstance(exc, ServiceError):
        headers = dict(exc.headers) if isinstance(exc, Refused) else {}
        if isinstance(exc, TooMany):
            headers["Retry-After"] = str(exc.retry_after)
        found = answer(exc.code, exc.message, headers)
        if isinstance(exc, ImportRejected):
            return ErrorAnswer(found.code, found.detail, found.headers, exc.problems)
        return found
    for kind, code, message in _FOREIGN:
        if isinstance(exc, kind):
            return answer(code, str(exc) if message is None else message)
    return None


def code_for_status(status: int) -> ErrorCode:
    """The code of an error the framework raised with only a status."""
    return _BY_STATUS.get(status, ErrorCode.BAD_REQUEST)
