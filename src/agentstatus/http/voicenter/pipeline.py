"""The one request pipeline of the Voicenter endpoints: method, parameters, Code, limiter,
the endpoint's own work, answer, metrics. Raw ASGI: this is the hot path."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar, Generic, TypeVar

from starlette.types import Receive, Scope, Send

from agentstatus.http.context import AppContext
from agentstatus.http.ratelimit import Refusal
from agentstatus.http.requests import (
    BodyIncomplete,
    BodyTooLarge,
    header,
    read_body,
    resolve_client,
)
from agentstatus.http.responses import send_bytes
from agentstatus.http.voicenter.answers import Answers
from agentstatus.http.voicenter.parameters import MAX_BODY, Unreadable, read_parameters
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
"""A raw ASGI HTTP endpoint."""

P = TypeVar("P")

_ALLOW = [(b"allow", b"GET, POST")]


class VoicenterEndpoint(ABC, Generic[P]):
    """One Voicenter endpoint: what it needs from the parameters (``P``) and what it does
    with them; every other step, and every answer but its success, is the pipeline's."""

    name: ClassVar[str]
    """In the metrics and the audit log."""
    path: ClassVar[str]
    answers: ClassVar[Answers]
    failure: ClassVar[str]
    """Logged, with the traceback, when the endpoint's work raises (row 11)."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    @abstractmethod
    def request(self, params: Mapping[str, str | None]) -> P | Row:
        """What the endpoint needs from the parameters, or the row (2-4) refusing them."""

    @abstractmethod
    async def answer(self, request: P, method: str, address: str | None) -> bytes | Row:
        """The body of a success (sent with 200), or the row that answers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        row = await self._serve(scope, receive, send)
        self.context.metrics.observe(self.name, row, time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> Row:
        ctx = self.context
        address = resolve_client(scope, ctx.trusted_proxies)
        method = scope["method"]
        if method not in ("GET", "POST"):
            refused = self.answers[Row.UNREADABLE].body
            await send_bytes(send, 405, refused, extra_headers=_ALLOW)
            return Row.UNREADABLE
        code = ""
        try:
            body = await read_body(scope, receive, MAX_BODY) if method == "POST" else b""
            params = read_parameters(
                method, scope["query_string"], header(scope, b"content-type"), body
            )
            request = self.request(params)
            code = code_of(params)
        except (Unreadable, BodyTooLarge, BodyIncomplete):
            request = Row.UNREADABLE
        if isinstance(request, Row):
            return await self._send_row(send, request)
        ticket = await ctx.limiter.admit(address, code)
        if isinstance(ticket, Refusal):
            return await self._send_row(send, ticket.row, ticket.retry_after)
        try:
            result = await self._answer(request, method, address)
        except BaseException:
            ctx.limiter.abandoned(ticket)  # cancelled: the outcome is unknown
            raise
        if result is Row.AUTHENTICATION_FAILED:
            await ctx.limiter.failed(ticket)
        elif result is Row.UPDATE_FAILED:
            ctx.limiter.abandoned(ticket)
        else:
            ctx.limiter.authenticated(ticket)  # row 7 too: the Code was right
        if isinstance(result, Row):
            return await self._send_row(send, result)
        await send_bytes(send, 200, result)
        return Row.OK

    async def _answer(self, request: P, method: str, address: str | None) -> bytes | Row:
        try:
            return await self.answer(request, method, address)
        except Exception:
            log.exception(self.failure)
            return Row.UPDATE_FAILED

    async def _send_row(self, send: Send, row: Row, retry_after: int = 1) -> Row:
        status, body, timed = self.answers[row]
        extra = [(b"retry-after", str(retry_after).encode())] if timed else None
        await send_bytes(send, status, body, extra_headers=extra)
        return row


def code_of(params: Mapping[str, str | None]) -> str:
    """The ``code`` parameter, trimmed; empty when missing."""
    return (params.get("code") or "").strip()
