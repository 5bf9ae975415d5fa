"""Builds the FastAPI application that serves everything but the hot path."""

from __future__ import annotations

from fastapi import FastAPI

from agentstatus import __version__
from agentstatus.context import AppContext
from agentstatus.http.api import operations


def create_api(context: AppContext) -> FastAPI:
    api = FastAPI(
        title="agentstatus",
        version=__version__,
        description="Native management API of agentstatus. The Voicenter-compatible "
        "endpoints (/UserLogin/SetStatusFromAPI, …) are documented in the README.",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.context = context
    api.include_router(operations.router)
    return api
