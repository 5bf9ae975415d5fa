"""The exceptions the client raises: one hierarchy, one class per kind of refusal.

    AgentStatusError
    ├── AuthorizationFailed   wrong Code, unknown or inactive user, address not allowed
    ├── MissingParameter      the Code, user id, extension or status was missing
    ├── ExtensionNotFound     the extension is not one of the organisation's
    ├── ExtensionInUse        another agent holds the extension
    ├── StatusNotSupported    the status is not an enabled status of the organisation
    ├── UpdateFailed          the server could not store the change (or read its data)
    ├── RateLimited           too many failed authentications from this address
    └── TransportError        the server could not be reached or did not answer

Every exception carries the raw fields of the answer (``status``, ``status_error``,
``message``, ``http_status``; None when there was no answer) and ``request``, a copy of the
request with the ``Code`` replaced by ``[redacted]``. The Code itself never appears in an
exception, its text, its ``repr`` or its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..wire.comet import DESC
from ..wire.outcomes import STATUS, STATUS_ERRO_MESSAGE, STATUS_ERROR

__all__ = [
    "AgentStatusError",
    "AuthorizationFailed",
    "ExtensionInUse",
    "ExtensionNotFound",
    "MissingParameter",
    "RateLimited",
    "StatusNotSupported",
    "TransportError",
    "UpdateFailed",
]


class AgentStatusError(Exception):
    """Base class of every error the client raises; ``str(exc)`` says what happened.

    try:
        client.login("1001", "sip1001")
    except AgentStatusError as exc:
        print(exc, exc.status, exc.status_error, exc.message)
    """

    def __init__(
        self,
        description: str,
        *,
        request: httpx.Request | None = None,
        http_status: int | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.request = request
        self.http_status = http_status
        self.fields: Mapping[str, Any] = dict(fields or {})

    @property
    def status(self) -> int | None:
        """The answer's raw ``Status`` field (None on Comet endpoints or without an answer)."""
        value = self.fields.get(STATUS)
        return value if isinstance(value, int) else None

    @property
    def status_error(self) -> int | None:
        """The answer's raw ``StatusError`` field."""
        value = self.fields.get(STATUS_ERROR)
        return value if isinstance(value, int) else None

    @property
    def message(self) -> str | None:
        """The server's own words: ``StatusErroMessage`` (or ``DESC`` on Comet endpoints)."""
        value = self.fields.get(STATUS_ERRO_MESSAGE, self.fields.get(DESC))
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.description!r}, status={self.status!r}, "
            f"status_error={self.status_error!r}, message={self.message!r}, "
            f"http_status={self.http_status!r})"
        )


class AuthorizationFailed(AgentStatusError):
    """The Code, the user or the client address was refused ("Authorization Failed")."""


class MissingParameter(AgentStatusError):
    """A required parameter (Code, user id, extension or status) was missing or empty."""


class ExtensionNotFound(AgentStatusError):
    """The extension is not an extension of the organisation ("No extension found")."""


class ExtensionInUse(AgentStatusError):
    """Another agent holds the extension ("Extension is already in use")."""


class StatusNotSupported(AgentStatusError):
    """The status is not an enabled status of the organisation ("Status not support")."""


class UpdateFailed(AgentStatusError):
    """The server could not store the change ("Error on update"); it is safe to resend."""


class RateLimited(AgentStatusError):
    """Too many failed authentications from this address; ``retry_after`` says how long."""

    def __init__(
        self,
        description: str,
        *,
        retry_after: float | None = None,
        request: httpx.Request | None = None,
        http_status: int | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description, request=request, http_status=http_status, fields=fields)
        self.retry_after = retry_after


class TransportError(AgentStatusError):
    """The server could not be reached, or did not answer in time, after every retry."""
