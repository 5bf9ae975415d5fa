"""Reports over a range (default: the last 24 hours, ``service.reports.report_range``), as
JSON or CSV: the time each agent spent in each status (the CSV of ``agentstatus report``),
and each agent's calls per day of the organisation's time zone (SPEC 8)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from agentstatus.http.api.auth import OrgAccess
from agentstatus.http.api.dependencies import Context
from agentstatus.http.api.errors import AUTH_RESPONSES, NOT_FOUND
from agentstatus.http.api.models import ResponseBody
from agentstatus.http.api.time_range import Range
from agentstatus.service import call_reports, reports

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


class CallsDay(ResponseBody):
    user_id: str
    name: str
    day: str = Field(
        description="The day (YYYY-MM-DD) in the organisation's time zone; the first and "
        "last days of the range count only their part inside it."
    )
    calls_answered: int = Field(description="Calls the agent answered that day.")
    talk_seconds: float = Field(
        description="From each answered call's answer to its end (hold included; a call "
        "spanning midnight is split between the days; one not ended counts until the "
        "agent's logout, else the range's end or now; calls at once count once)."
    )
    wrap_up_seconds: float = Field(
        description="Time in the wrap-up status after a call (agent.wrap_up_started)."
    )
    missed_calls: int = Field(description="Calls offered that rang out (agent.missed_call).")
    available_seconds: float = Field(
        description="Time in statuses that take calls, in wrap-up or talking (each instant "
        "once): occupancy's denominator."
    )
    occupancy: float | None = Field(
        description="Talk and wrap-up time (each instant once) over available_seconds, "
        "0 to 1; null when available_seconds is 0."
    )


CALLS_CSV = ",".join(call_reports.CSV_HEADER)


@router.get(
    "/calls",
    response_model=list[CallsDay],
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": f"JSON, or with format=csv the header {CALLS_CSV} and one row per "
            "agent and day (occupancy empty when null).",
        }
    },
)
def calls(
    org: OrgAccess,
    context: Context,
    times: Range,
    user_id: Annotated[
        list[str] | None, Query(max_length=MAX_AGENTS, description="Only these agents.")
    ] = None,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response | list[CallsDay]:
    """Calls answered, talk, wrap-up, missed calls and occupancy per agent and day (of the
    organisation's time zone); a day has a row when the agent was logged in or had a call.
    'to' defaults to now and 'from' to 24 hours before."""
    start_ms, end_ms = reports.report_range(times.start_ms, times.end_ms)
    rows = call_reports.calls_report(context.engine, org, start_ms, end_ms, user_id)
    if fmt == "csv":
        return Response(call_reports.calls_csv(rows), media_type="text/csv")
    return [CallsDay.model_validate(r.as_json()) for r in rows]
