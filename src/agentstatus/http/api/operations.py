"""Operational endpoints: liveness, readiness, Prometheus metrics and the event contract."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from agentstatus.http.api.dependencies import Context
from agentstatus.http.metrics import CONTENT_TYPE_LATEST

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(context: Context) -> Response:
    if await context.changes.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "database unreachable"}, status_code=503)


@router.get("/metrics")
async def metrics(request: Request, context: Context) -> Response:
    return Response(context.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/asyncapi.json")
async def asyncapi() -> Response:
    """The event contract (AsyncAPI 3.0): no authentication, like /openapi.json."""
    # Imported on first use: its pydantic shapes read their fields' docstrings from the
    # source, a cost every server start need not pay.
    from agentstatus.http.asyncapi import document_json

    return Response(document_json(), media_type="application/json")
