"""The Voicenter endpoints' answers to every outcome row, rendered to bytes once from the
wire contract: the hot path only picks one. This is the Voicenter contract's table, not the
native API's error table (``http/errors.py``, ``{"detail", "code"}``): neither uses the other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import orjson

from agentstatus.wire import comet
from agentstatus.wire.outcomes import OUTCOMES, Row


class Answer(NamedTuple):
    status: int
    body: bytes
    retry_after: bool = False


Answers = Mapping[Row, Answer]

OUTCOME_ANSWERS: Answers = {
    row: Answer(o.http_status, orjson.dumps(o.as_dict()), o.retry_after)
    for row, o in OUTCOMES.items()
}
"""``SetStatusFromAPI`` and ``GetStatusesList``: the outcomes table itself."""

_UNAUTHORIZED = orjson.dumps(comet.unauthorized())

COMET_ANSWERS: Answers = {
    Row.UNREADABLE: Answer(200, _UNAUTHORIZED),
    Row.MISSING_CODE_OR_USER: Answer(200, _UNAUTHORIZED),
    Row.RATE_LIMITED: Answer(429, _UNAUTHORIZED, retry_after=True),
    Row.AUTHENTICATION_FAILED: Answer(200, _UNAUTHORIZED),
    Row.ADDRESS_NOT_ALLOWED: Answer(403, _UNAUTHORIZED),
    Row.UPDATE_FAILED: Answer(503, orjson.dumps(comet.unavailable()), retry_after=True),
}
"""The Comet endpoints: every refusal is the one ``Unauthorized`` object."""

_MALFORMED = orjson.dumps(comet.malformed())
_INVALID_CODE = orjson.dumps(comet.invalid_code())

QUEUE_ANSWERS: Answers = {
    Row.UNREADABLE: Answer(200, _MALFORMED),
    Row.MISSING_CODE_OR_USER: Answer(200, _MALFORMED),
    Row.RATE_LIMITED: Answer(429, _INVALID_CODE, retry_after=True),
    Row.AUTHENTICATION_FAILED: Answer(200, _INVALID_CODE),
    Row.ADDRESS_NOT_ALLOWED: Answer(403, _INVALID_CODE),
    Row.UPDATE_FAILED: Answer(503, orjson.dumps(comet.failed()), retry_after=True),
}
"""``GetQueuesCallers``, with the HTTP statuses of the other Comet endpoints but Voicenter's
documented ``ERR`` family: 1 for a request that cannot be read (another method too, with
405), 2 for a refused Code (even a right one while its address is blocked: the answer must
not tell them apart) and for an internal error."""
