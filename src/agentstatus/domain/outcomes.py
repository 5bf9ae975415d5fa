"""The outcomes table of SPEC.md section 3.1, as data.

The messages are part of the exposed HTTP API (including the misspelled field name
``StatusErroMessage``); don't "fix" or rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import orjson

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
    row: Row
    http_status: int
    status: int
    status_error: int
    message: str
    retry_after: bool = False
    body: bytes = field(init=False)

    def __post_init__(self) -> None:
        payload = {
            "Status": self.status,
            "StatusError": self.status_error,
            "StatusErroMessage": self.message,
        }
        object.__setattr__(self, "body", orjson.dumps(payload))

    def as_dict(self) -> dict[str, int | str]:
        return {
            "Status": self.status,
            "StatusError": self.status_error,
            "StatusErroMessage": self.message,
        }


OUTCOMES: dict[Row, Outcome] = {
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
