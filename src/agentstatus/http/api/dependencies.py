"""FastAPI dependencies, as ``Annotated`` aliases so routes read as signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agentstatus.domain.secret_box import SecretBox
from agentstatus.http.context import AppContext
from agentstatus.storage.key_file import SecretKeyMissing


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_secret_box(context: Context) -> SecretBox:
    if context.secret_box is None:
        raise SecretKeyMissing
    return context.secret_box


WebhookSecretBox = Annotated[SecretBox, Depends(get_secret_box)]
