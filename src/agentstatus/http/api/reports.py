"""Reports: the time each agent spent in each status over a range (default: the last 24
hours, ``service.reports.report_range``), as JSON or as the CSV of ``agentstatus report``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from agentstatus.http.api.auth import OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.models import ResponseBody
from agentstatus.http.api.time_range import Range
from agentstatus.service import reports

router = APIRouter(
    prefix="/orgs/{org}/reports", tags=["reports"], responses={**AUTH_RESPONSES, **NOT_FOUND}
)
MAX_AGENTS = 1000


class TimeInStatus(ResponseBody):
    user_id: str
    name: str
    status: int
    status_name: str | None
    seconds: float
    over_limit_seconds: float = Field(
        description="Of seconds, the time past the status's limit (0 without a limit)."
    )


@router.get(
    "/time-in-status",
    response_model=list[TimeInStatus],
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "JSON, or with format=csv the header "
            "user_id,name,status,status_name,seconds,over_limit_seconds and one row per "
            "agent and status.",
        }
    },
)
def time_in_status(
    org: OrgAccess,
    context: Context,
    times: Range,
    user_id: Annotated[
        list[str] | None, Query(max_length=MAX_AGENTS, description="Only these agents.")
    ] = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response | list[TimeInStatus]:
    """Seconds per agent and status; 'to' defaults to now and 'from' to 24 hours before."""
    start_ms, end_ms = reports.report_range(times.start_ms, times.end_ms)
    rows = reports.time_in_status(context.engine, org, start_ms, end_ms, user_id)
    if fmt == "csv":
        return Response(reports.as_csv(rows), media_type="text/csv")
    return [TimeInStatus.model_validate(r.as_json()) for r in rows]
