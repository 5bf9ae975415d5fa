"""The native API's integer parameters, read by the one parser (``domain/integers.py``).

FastAPI's own int reading takes ``" 12"``, ``"1_000"`` and ``"12.0"``; these types run
:func:`parse_int` first, so the API, the pages and the panel accept the same text. The
``ge``/``le`` stay for the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query
from pydantic import BeforeValidator

from agentstatus.domain.integers import INT32_MAX, INT64_MAX, parse_int


def whole(low: int, high: int) -> BeforeValidator:
    """A validator that reads text with :func:`parse_int` (ints from JSON pass through to
    the range check of ``ge``/``le``)."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            parsed = parse_int(value.strip(), low, high)
            if parsed is None:
                raise ValueError(f"must be a whole number from {low} to {high}")
            return parsed
        return value

    return BeforeValidator(check)


ROW_ID = whole(1, INT64_MAX)
EVENT_ID = whole(0, INT64_MAX)
STATUS_ID = whole(1, INT32_MAX)

EventIdQuery = Annotated[
    int | None, Query(ge=0, le=INT64_MAX, description="Continue after this event id."), EVENT_ID
]
EventIdHeader = Annotated[
    int | None, Header(ge=0, le=INT64_MAX, description="Resume after this event."), EVENT_ID
]
ResumeQuery = Annotated[
    int | None, Query(ge=0, le=INT64_MAX, description="Same as Last-Event-ID."), EVENT_ID
]
EndpointId = Annotated[int, Path(ge=1, le=INT64_MAX, description="The endpoint's id."), ROW_ID]
EndpointFilter = Annotated[int | None, Query(ge=1, le=INT64_MAX), ROW_ID]
LinkId = Annotated[int, Path(ge=1, le=INT64_MAX, description="The link's id."), ROW_ID]
StatusId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The status number."), STATUS_ID]
