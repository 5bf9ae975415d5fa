"""Errors the service layer raises, and the stable code of every refusal the server answers.

Each class carries its ``code``; ``http/errors.py`` maps the codes to HTTP answers (the
native API's ``{"detail", "code"}``), the CLI prints the message. Messages are written for
the person who made the mistake and never contain a secret.

::

    ServiceError                    bad_request
     ├── NotFound                   not_found
     │    └── OrganisationNotFound  organisation_not_found
     ├── AlreadyExists              conflict
     │    └── CodeTaken             conflict
     ├── NotOnCall                  not_on_call
     ├── InvalidInput               validation_error
     │    └── ImportRejected        import_rejected
     ├── TooMany                    too_many_streams
     └── Unavailable                unavailable
          └── ImportIncomplete      import_incomplete
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The ``code`` of an error answer of the native API: part of the exposed HTTP API;
    don't rename them. The Voicenter endpoints have their own answers (``wire/outcomes.py``)."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    ORGANISATION_NOT_FOUND = "organisation_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    IMPORT_REJECTED = "import_rejected"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_STREAMS = "too_many_streams"
    UNAVAILABLE = "unavailable"
    IMPORT_INCOMPLETE = "import_incomplete"
    SECRET_KEY_UNAVAILABLE = "secret_key_unavailable"  # noqa: S105 (a name, not a key)
    # A supervisor's change (PUT /orgs/{org}/presence/{user_id}): why it was refused.
    AGENT_NOT_FOUND = "agent_not_found"
    STATUS_NOT_AVAILABLE = "status_not_available"
    EXTENSION_NOT_FOUND = "extension_not_found"
    EXTENSION_REQUIRED = "extension_required"
    EXTENSION_IN_USE = "extension_in_use"
    INVALID_REASON = "invalid_reason"
    NOT_ON_CALL = "not_on_call"
    # PUT /orgs/{org}/queues/{queue}: no queue of that name was heard of.
    QUEUE_NOT_FOUND = "queue_not_found"


class ServiceError(Exception):
    """Base class: the operation was refused and nothing was changed."""

    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:  # one class, a more precise meaning at this raise
            self.code = code


class NotFound(ServiceError):
    """The named agent, extension, status, token or other thing does not exist."""

    code = ErrorCode.NOT_FOUND


class OrganisationNotFound(NotFound):
    """The organisation named (by every path under ``/orgs/{org}``) does not exist."""

    code = ErrorCode.ORGANISATION_NOT_FOUND


class AlreadyExists(ServiceError):
    """Something with that name or id already exists."""

    code = ErrorCode.CONFLICT


class CodeTaken(AlreadyExists):
    """The Code asked for is another organisation's (told on the command line only)."""


class NotOnCall(ServiceError):
    """A status queued as next for an agent neither on a call nor in wrap-up (set the
    status itself instead)."""

    code = ErrorCode.NOT_ON_CALL


class InvalidInput(ServiceError):
    """A value is malformed or out of range."""

    code = ErrorCode.VALIDATION_ERROR


class ImportRejected(InvalidInput):
    """A CSV import had bad rows; nothing was imported."""

    code = ErrorCode.IMPORT_REJECTED

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing was imported")
        self.problems = problems


class TooMany(ServiceError):
    """A limit on what one client may hold at once (HTTP 429); try again later."""

    code = ErrorCode.TOO_MANY_STREAMS

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """The database did not take the change (outcome row 11); nothing was applied."""

    code = ErrorCode.UNAVAILABLE


class ImportIncomplete(Unavailable):
    """The database failed part-way through an import: the rows before were written
    (an import is idempotent, so importing the same file again finishes it)."""

    code = ErrorCode.IMPORT_INCOMPLETE
