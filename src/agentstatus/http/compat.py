"""The Voicenter-compatible endpoints, as raw ASGI handlers: this is the hot path.

Parsing and rendering live in :mod:`agentstatus.wire`; deciding and storing in the
status store. Every answer is one of the outcomes table's objects, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from sqlalchemy import insert, select
from starlette.types import Receive, Scope, Send

from agentstatus.context import AppContext
from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.secrets import digest
from agentstatus.http.requests import BodyTooLarge, header, read_body, resolve_client
from agentstatus.http.responses import OUTCOME_BODIES, send_bytes, send_outcome
from agentstatus.service.statuses import status_rows
from agentstatus.storage.schema import audit, organisations
from agentstatus.wire import statuses_list
from agentstatus.wire.outcomes import OUTCOMES, Row
from agentstatus.wire.parameters import (
    MAX_BODY,
    Unreadable,
    read_parameters,
    status_parameters,
)
from agentstatus.wire.paths import GET_STATUSES_LIST, SET_STATUS, route_key

log = logging.getLogger(__name__)

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

_ALLOW = [(b"allow", b"GET, POST")]


async def _parameters(scope: Scope, receive: Receive) -> dict[str, str | None]:
    method = scope["method"]
    body = await read_body(scope, receive, MAX_BODY) if method == "POST" else b""
    return read_parameters(method, scope["query_string"], header(scope, b"content-type"), body)


class CompatEndpoints:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def routes(self) -> dict[str, Handler]:
        """Lower-cased paths (paths match case-insensitively) to handlers."""
        return {
            route_key(SET_STATUS): self.set_status,
            route_key(GET_STATUSES_LIST): self.get_statuses_list,
        }

    async def set_status(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        row = await self._set_status(scope, receive, send)
        self.context.metrics.observe("SetStatusFromAPI", row, time.perf_counter() - started)

    async def _set_status(self, scope: Scope, receive: Receive, send: Send) -> Row:
        ctx = self.context
        address = resolve_client(scope, ctx.trusted_proxies)
        method = scope["method"]
        if method not in ("GET", "POST"):
            await send_bytes(send, 405, OUTCOME_BODIES[Row.UNREADABLE], extra_headers=_ALLOW)
            return Row.UNREADABLE
        try:
            parsed = status_parameters(await _parameters(scope, receive))
        except (Unreadable, BodyTooLarge):
            parsed = Row.UNREADABLE
        if isinstance(parsed, Row):
            await send_outcome(send, OUTCOMES[parsed])
            return parsed
        wait = ctx.limiter.retry_after(address)
        if wait is not None:
            await send_outcome(send, OUTCOMES[Row.RATE_LIMITED], wait)
            return Row.RATE_LIMITED
        command = StatusCommand(
            user_id=parsed.user_id,
            extension=parsed.extension,
            status=parsed.status,
            source=Source.GET if method == "GET" else Source.POST,
            client_addr=address,
            code_hash=digest(parsed.code),
        )
        try:
            result = await ctx.store.apply(command)
            row = result.row
        except Exception:
            log.exception("status store failed")
            row = Row.UPDATE_FAILED
        if row is Row.AUTHENTICATION_FAILED:
            ctx.limiter.record_failure(address)
        await send_outcome(send, OUTCOMES[row])
        return row

    async def get_statuses_list(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        row = await self._get_statuses_list(scope, receive, send)
        self.context.metrics.observe("GetStatusesList", row, time.perf_counter() - started)

    async def _get_statuses_list(self, scope: Scope, receive: Receive, send: Send) -> Row:
        ctx = self.context
        address = resolve_client(scope, ctx.trusted_proxies)
        if scope["method"] not in ("GET", "POST"):
            await send_bytes(send, 405, OUTCOME_BODIES[Row.UNREADABLE], extra_headers=_ALLOW)
            return Row.UNREADABLE
        try:
            params = await _parameters(scope, receive)
        except (Unreadable, BodyTooLarge):
            await send_outcome(send, OUTCOMES[Row.UNREADABLE])
            return Row.UNREADABLE
        code = (params.get("code") or "").strip()
        if not code:
            await send_outcome(send, OUTCOMES[Row.MISSING_CODE_OR_USER])
            return Row.MISSING_CODE_OR_USER
        wait = ctx.limiter.retry_after(address)
        if wait is not None:
            await send_outcome(send, OUTCOMES[Row.RATE_LIMITED], wait)
            return Row.RATE_LIMITED
        try:
            body = await asyncio.to_thread(self._statuses_body, code, address)
        except Exception:
            log.exception("could not read the status catalogue")
            await send_outcome(send, OUTCOMES[Row.UPDATE_FAILED])
            return Row.UPDATE_FAILED
        if isinstance(body, Row):
            if body is Row.AUTHENTICATION_FAILED:
                ctx.limiter.record_failure(address)
            await send_outcome(send, OUTCOMES[body])
            return body
        await send_bytes(send, 200, body)
        return Row.OK

    def _statuses_body(self, code: str, address: str | None) -> bytes | Row:
        with self.context.engine.connect() as conn:
            org = conn.execute(
                select(organisations.c.id, organisations.c.allowlist).where(
                    organisations.c.code_hash == digest(code)
                )
            ).first()
            if org is not None and address_allowed(org.allowlist, address):
                rows = status_rows(conn, org.id, enabled_only=True)
                listing = [statuses_list.status(s.id, s.name, s.color) for s in rows]
                return orjson.dumps(statuses_list.statuses(listing))
        row = Row.AUTHENTICATION_FAILED if org is None else Row.ADDRESS_NOT_ALLOWED
        with self.context.engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    org_id=None if org is None else org.id,
                    user_id=None,
                    outcome_row=row,
                    endpoint="GetStatusesList",
                    source="GET",
                    client_addr=address,
                    at_ms=now_ms(),
                )
            )
        return row
