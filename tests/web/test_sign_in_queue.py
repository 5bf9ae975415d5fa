"""A sign-in waits for one of the two password checks a bounded time, behind a bounded
number of others; past that it is told to try again (503 with Retry-After, and the page
says so) instead of waiting behind a burst of failing sign-ins (it waited 29 s)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from agentstatus.app import create_service
from agentstatus.http.application import Dispatcher
from agentstatus.service.tokens import Role
from agentstatus.settings import Settings
from agentstatus.web.application import WebFront
from agentstatus.web.pages import sign_in
from tests.client.support import Lifespan
from tests.support.web import SAME_ORIGIN, add_user, text_of


def _pages(app: Any) -> Starlette:
    while not isinstance(app, Dispatcher):
        app = app.app
    assert isinstance(app.web.app, WebFront)
    pages: Any = app.web.app.pages
    while not isinstance(pages, Starlette):
        pages = pages.app
    return pages


async def test_a_sign_in_is_told_to_retry_when_no_check_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = create_service(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    user = add_user(service.context.engine, "queue@example.com", Role.ADMIN, None)
    queue: sign_in.PasswordQueue = _pages(service.asgi).state.password_checks
    form = {"email": user.email, "password": user.password, "next": "/"}
    transport = httpx.ASGITransport(app=service.asgi)
    async with (
        Lifespan(service.asgi),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):

        async def post() -> httpx.Response:
            answer = client.post("/sign-in", data=form, headers=SAME_ORIGIN)
            return await asyncio.wait_for(answer, 10)

        async with AsyncExitStack() as busy:
            for _ in range(2):  # both checks taken (a burst of sign-ins)
                await busy.enter_async_context(queue.turn())
            monkeypatch.setattr(sign_in, "WAIT_SECONDS", 0.0)
            waited = await post()
            assert waited.status_code == 503
            assert waited.headers["retry-after"] == "5"
            assert "Try again in a few seconds" in text_of(waited.text)
            monkeypatch.setattr(sign_in, "WAIT_SECONDS", 30.0)
            monkeypatch.setattr(queue, "max_waiting", 0)  # the queue is full: no wait at all
            full = await post()
            assert full.status_code == 503
        monkeypatch.setattr(queue, "max_waiting", sign_in.MAX_WAITING)
        signed = await post()
        assert signed.status_code == 303  # the refusals were not counted as failures
