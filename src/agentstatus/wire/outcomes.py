"""The outcomes table of SPEC.md section 3.1, as data, shared by the server and the client.

The field names and messages are part of the exposed HTTP API (including the misspelled
``StatusErroMessage``); don't "fix" or rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

# The answer's fields: part of the exposed HTTP API; don't rename.
STATUS = "Status"
STATUS_ERROR = "StatusError"
STATUS_ERRO_MESSAGE = "StatusErroMessage"

# The messages: part of the exposed HTTP API; don't rename.
MSG_AUTHORIZATION_FAILED = "Authorization Failed"
MSG_NO_EXTENSION = "No extension found"
MSG_STATUS_NOT_SUPPORT = "Status not support"
MSG_EXTENSION_IN_USE = "Extension is already in use"
MSG_ERROR_ON_UPDATE = "Error on update"
MSG_OK = "OK"


class Row(IntEnum):
    """One row of the outcomes table; checked in this order, the first that applies answers."""

    UNREADABLE = 1
    MISSING_CODE_OR_USER = 2
    MISSING_EXTENSION = 3
    MISSING_STATUS = 4
    RATE_LIMITED = 5
    AUTHENTICATION_FAILED = 6
    ADDRESS_NOT_ALLOWED = 7
    UNKNOWN_EXTENSION = 8
    STATUS_NOT_SUPPORTED = 9
    EXTENSION_IN_USE = 10
    UPDATE_FAILED = 11
    OK = 12


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row as it is answered: the HTTP status, the body's three fields, and whether a
    ``Retry-After`` header goes with it."""

    row: Row
    http_status: int
    status: int
    status_error: int
    message: str
    retry_after: bool = False

    def as_dict(self) -> dict[str, int | str]:
        """The answer's JSON object (a new dict each time: callers may change it)."""
        return {
            STATUS: self.status,
            STATUS_ERROR: self.status_error,
            STATUS_ERRO_MESSAGE: self.message,
        }


OUTCOMES: Mapping[Row, Outcome] = {
    o.row: o
    for o in (
        Outcome(Row.UNREADABLE, 200, 2, 0, MSG_AUTHORIZATION_FAILED),
        Outcome(Row.MISSING_CODE_OR_USER, 200, 2, 6, MSG_AUTHORIZATION_FAILED),
        Outcome(Row.MISSING_EXTENSION, 200, 3, 6, MSG_NO_EXTENSION),
        Outcome(Row.MISSING_STATUS, 200, 4, 6, MSG_STATUS_NOT_SUPPORT),
        Outcome(Row.RATE_LIMITED, 429, 2, 0, MSG_AUTHORIZATION_FAILED, retry_after=True),
        Outcome(Row.AUTHENTICATION_FAILED, 200, 2, 0, MSG_AUTHORIZATION_FAILED),
        Outcome(Row.ADDRESS_NOT_ALLOWED, 403, 2, 0, MSG_AUTHORIZATION_FAILED),
        Outcome(Row.UNKNOWN_EXTENSION, 200, 3, 3, MSG_NO_EXTENSION),
        Outcome(Row.STATUS_NOT_SUPPORTED, 200, 4, 0, MSG_STATUS_NOT_SUPPORT),
        Outcome(Row.EXTENSION_IN_USE, 200, 3, 3, MSG_EXTENSION_IN_USE),
        Outcome(Row.UPDATE_FAILED, 503, 0, 4, MSG_ERROR_ON_UPDATE, retry_after=True),
        Outcome(Row.OK, 200, 1, 1, MSG_OK),
    )
}


def answered_row(fields: Mapping[str, object], http_status: int) -> Row | None:
    """The row an answer is, read back from its fields (the client's side of the table);
    None when no row has its ``Status``/``StatusError`` pair.

    Rows sharing a pair are told apart by the message (case and surrounding spaces aside),
    then by the HTTP status; rows 1 and 6 are the same answer, and read back as row 1.
    """
    status, status_error = fields.get(STATUS), fields.get(STATUS_ERROR)
    if not isinstance(status, int) or not isinstance(status_error, int):
        return None
    found = [o for o in OUTCOMES.values() if (o.status, o.status_error) == (status, status_error)]
    if len(found) > 1:
        message = fields.get(STATUS_ERRO_MESSAGE)
        said = message.strip().casefold() if isinstance(message, str) else None
        found = [o for o in found if o.message.casefold() == said] or found
    if len(found) > 1:
        found = [o for o in found if o.http_status == http_status] or found
    return found[0].row if found else None
