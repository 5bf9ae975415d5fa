"""Voicenter's live-state endpoints (SPEC.md section 4): the organisation's extensions,
and who is logged in at each, in Voicenter's Comet shape."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from sqlalchemy import false, insert, select
from starlette.types import Receive, Scope, Send

from agentstatus.context import AppContext
from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.secrets import digest
from agentstatus.http.compat import Handler
from agentstatus.http.requests import BodyTooLarge, header, read_body, resolve_client
from agentstatus.http.responses import send_bytes
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, audit, extensions, organisations, presence
from agentstatus.wire import comet
from agentstatus.wire.outcomes import Row
from agentstatus.wire.parameters import MAX_BODY, Unreadable, read_parameters
from agentstatus.wire.paths import GET_EXTENSIONS, GET_EXTENSIONS_CALLS, route_key

log = logging.getLogger(__name__)

UNAUTHORIZED = orjson.dumps(comet.unauthorized())
UNAVAILABLE = orjson.dumps(comet.unavailable())


class CometEndpoints:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def routes(self) -> dict[str, Handler]:
        return {
            route_key(GET_EXTENSIONS): self.get_extensions,
            route_key(GET_EXTENSIONS_CALLS): self.get_extensions_calls,
        }

    async def get_extensions(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serve(scope, receive, send, "GetExtensions", calls=False)

    async def get_extensions_calls(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._serve(scope, receive, send, "GetExtensionsCalls", calls=True)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, endpoint: str, *, calls: bool
    ) -> None:
        started = time.perf_counter()
        row = await self._answer(scope, receive, send, endpoint, calls)
        self.context.metrics.observe(endpoint, row, time.perf_counter() - started)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, endpoint: str, calls: bool
    ) -> Row:
        ctx = self.context
        address = resolve_client(scope, ctx.trusted_proxies)
        method = scope["method"]
        if method not in ("GET", "POST"):
            await send_bytes(send, 405, UNAUTHORIZED, extra_headers=[(b"allow", b"GET, POST")])
            return Row.UNREADABLE
        try:
            body = await read_body(scope, receive, MAX_BODY) if method == "POST" else b""
            params = read_parameters(
                method, scope["query_string"], header(scope, b"content-type"), body
            )
        except (Unreadable, BodyTooLarge):
            await send_bytes(send, 200, UNAUTHORIZED)
            return Row.UNREADABLE
        code = (params.get("code") or "").strip()
        if not code:
            await send_bytes(send, 200, UNAUTHORIZED)
            return Row.MISSING_CODE_OR_USER
        wait = ctx.limiter.retry_after(address)
        if wait is not None:
            await send_bytes(
                send, 429, UNAUTHORIZED, extra_headers=[(b"retry-after", str(wait).encode())]
            )
            return Row.RATE_LIMITED
        only = (params.get("extension") or "").strip() or None
        try:
            result = await asyncio.to_thread(self._read, code, address, endpoint, calls, only)
        except Exception:
            log.exception("could not read extensions")
            await send_bytes(send, 503, UNAVAILABLE, extra_headers=[(b"retry-after", b"1")])
            return Row.UPDATE_FAILED
        if isinstance(result, Row):
            if result is Row.AUTHENTICATION_FAILED:
                ctx.limiter.record_failure(address)
            await send_bytes(send, 403 if result is Row.ADDRESS_NOT_ALLOWED else 200, UNAUTHORIZED)
            return result
        await send_bytes(send, 200, result)
        return Row.OK

    def _read(
        self, code: str, address: str | None, endpoint: str, calls: bool, only: str | None
    ) -> bytes | Row:
        engine = self.context.engine
        with reading(engine) as conn:
            org = conn.execute(
                select(organisations.c.id, organisations.c.allowlist).where(
                    organisations.c.code_hash == digest(code)
                )
            ).first()
            if org is not None and address_allowed(org.allowlist, address):
                query = (
                    select(extensions.c.sip, extensions.c.name, agents.c.user_id, presence.c.status)
                    .select_from(
                        extensions.outerjoin(
                            presence, presence.c.extension_id == extensions.c.id
                        ).outerjoin(agents, agents.c.id == presence.c.agent_id)
                    )
                    .where(extensions.c.org_id == org.id)
                    .order_by(extensions.c.sip)
                )
                if only is not None:
                    # PostgreSQL text cannot hold NUL: such a name matches no extension.
                    query = query.where(extensions.c.sip == only if "\x00" not in only else false())
                rows = conn.execute(query).all()
                if calls:
                    listing = [
                        comet.extension_calls(
                            r.sip, r.name, r.user_id, LOGOUT if r.user_id is None else r.status
                        )
                        for r in rows
                    ]
                else:
                    listing = [comet.extension(r.sip, r.name) for r in rows]
                return orjson.dumps(comet.ok(listing))
        row = Row.AUTHENTICATION_FAILED if org is None else Row.ADDRESS_NOT_ALLOWED
        with engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    org_id=None if org is None else org.id,
                    user_id=None,
                    outcome_row=row,
                    endpoint=endpoint,
                    source="GET",
                    client_addr=address,
                    at_ms=now_ms(),
                )
            )
        return row
