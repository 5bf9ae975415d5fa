"""FastAPI dependencies, as ``Annotated`` aliases so routes read as signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agentstatus.context import AppContext


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]
