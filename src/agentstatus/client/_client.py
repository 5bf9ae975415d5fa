"""``Client`` and ``AsyncClient``: the same methods, one blocking and one awaited; all
that is not I/O lives in their shared ``BaseClient``."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Self

import httpx

from ..wire.paths import (
    GET_EXTENSIONS,
    GET_EXTENSIONS_CALLS,
    GET_QUEUES_CALLERS,
    GET_STATUSES_LIST,
)
from ._base import DEFAULT_BASE_URL, DEFAULT_RETRIES, DEFAULT_TIMEOUT, USER_AGENT, BaseClient
from ._models import AgentStatus, Extension, ExtensionPresence, Queue, Status, StatusResult
from ._outcomes import checked
from ._retry import RetryPolicy
from ._wire import Call, extensions_from, presence_from, queues_from, statuses_from

__all__ = ["AsyncClient", "BaseClient", "Client"]


class Client(BaseClient):
    """A synchronous client of the status API (agentstatus or ``https://api.voicenter.com``).

        with Client("XXXX", "http://127.0.0.1:8000") as client:
            client.set_status("1001", "sip1001", AgentStatus.LUNCH_BREAK)

    A status change is idempotent (repeating it changes nothing), so every call is retried
    on connection errors, 429, 502, 503 and 504; see ``RetryPolicy``.
    """

    def __init__(
        self,
        code: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        method: str = "POST",
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(code, base_url, timeout=timeout, retries=retries, method=method)
        if http_client is not None and transport is not None:
            raise ValueError("pass transport= or http_client=, not both")
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    def set_status(self, user_id: str | int, extension: str, status: int) -> StatusResult:
        """Put agent ``user_id`` at ``extension`` in ``status``; raises unless it was applied.

        client.set_status("1001", "sip1001", 3).ok  # True
        """
        call = self._set_status_call(self._http, user_id, extension, status)
        return self._status_result(call, self._send(call))

    def login(self, user_id: str | int, extension: str) -> StatusResult:
        """``set_status(user_id, extension, AgentStatus.LOGIN)``."""
        return self.set_status(user_id, extension, AgentStatus.LOGIN)

    def logout(self, user_id: str | int, extension: str) -> StatusResult:
        """``set_status(user_id, extension, AgentStatus.LOGOUT)``: frees whatever it holds."""
        return self.set_status(user_id, extension, AgentStatus.LOGOUT)

    def statuses(self) -> list[Status]:
        """The organisation's enabled statuses, in id order (``GetStatusesList``)."""
        call = self._read_call(self._http, GET_STATUSES_LIST)
        return statuses_from(checked(call, self._send(call), "Statuses"))

    def extensions(self) -> list[Extension]:
        """The organisation's extensions (``GetExtensions``)."""
        call = self._read_call(self._http, GET_EXTENSIONS)
        return extensions_from(checked(call, self._send(call), "EXTENSIONS"))

    def presence(self, extension: str | None = None) -> list[ExtensionPresence]:
        """Who is logged in at each extension, or at one (``GetExtensionsCalls``)."""
        call = self._read_call(self._http, GET_EXTENSIONS_CALLS, extension=extension)
        return presence_from(checked(call, self._send(call), "EXTENSIONS"))

    def queues(self, queue: str | None = None) -> list[Queue]:
        """The callers waiting in each queue, or in one (``GetQueuesCallers``; an unknown
        queue: an empty list)."""
        call = self._read_call(self._http, GET_QUEUES_CALLERS, queue=queue)
        return queues_from(checked(call, self._send(call), "QUEUES"))

    def _send(self, call: Call) -> httpx.Response:
        attempts = 0
        while True:
            attempts += 1
            response: httpx.Response | None = None
            error: httpx.RequestError | None = None
            try:
                response = self._http.send(call.request)
            except httpx.RequestError as exc:
                error = exc
            wait = self._wait_before_retry(call, attempts, response, error)
            if wait is None:
                break
            time.sleep(wait)
        if error is not None:
            raise self._transport_error(call, error, attempts) from None
        assert response is not None
        return response

    def close(self) -> None:
        """Close the connection pool (unless ``http_client`` was given)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient(BaseClient):
    """The asynchronous twin of ``Client``: the same arguments and methods, awaited.

    async with AsyncClient("XXXX", "http://127.0.0.1:8000") as client:
        await client.login("1001", "sip1001")
    """

    def __init__(
        self,
        code: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        method: str = "POST",
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(code, base_url, timeout=timeout, retries=retries, method=method)
        if http_client is not None and transport is not None:
            raise ValueError("pass transport= or http_client=, not both")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    async def set_status(self, user_id: str | int, extension: str, status: int) -> StatusResult:
        """Put agent ``user_id`` at ``extension`` in ``status``; raises unless it was applied.

        (await client.set_status("1001", "sip1001", 3)).ok  # True
        """
        call = self._set_status_call(self._http, user_id, extension, status)
        return self._status_result(call, await self._send(call))

    async def login(self, user_id: str | int, extension: str) -> StatusResult:
        """``set_status(user_id, extension, AgentStatus.LOGIN)``."""
        return await self.set_status(user_id, extension, AgentStatus.LOGIN)

    async def logout(self, user_id: str | int, extension: str) -> StatusResult:
        """``set_status(user_id, extension, AgentStatus.LOGOUT)``: frees whatever it holds."""
        return await self.set_status(user_id, extension, AgentStatus.LOGOUT)

    async def statuses(self) -> list[Status]:
        """The organisation's enabled statuses, in id order (``GetStatusesList``)."""
        call = self._read_call(self._http, GET_STATUSES_LIST)
        return statuses_from(checked(call, await self._send(call), "Statuses"))

    async def extensions(self) -> list[Extension]:
        """The organisation's extensions (``GetExtensions``)."""
        call = self._read_call(self._http, GET_EXTENSIONS)
        return extensions_from(checked(call, await self._send(call), "EXTENSIONS"))

    async def presence(self, extension: str | None = None) -> list[ExtensionPresence]:
        """Who is logged in at each extension, or at one (``GetExtensionsCalls``)."""
        call = self._read_call(self._http, GET_EXTENSIONS_CALLS, extension=extension)
        return presence_from(checked(call, await self._send(call), "EXTENSIONS"))

    async def queues(self, queue: str | None = None) -> list[Queue]:
        """The callers waiting in each queue, or in one (``GetQueuesCallers``; an unknown
        queue: an empty list)."""
        call = self._read_call(self._http, GET_QUEUES_CALLERS, queue=queue)
        return queues_from(checked(call, await self._send(call), "QUEUES"))

    async def _send(self, call: Call) -> httpx.Response:
        attempts = 0
        while True:
            attempts += 1
            response: httpx.Response | None = None
            error: httpx.RequestError | None = None
            try:
                response = await self._http.send(call.request)
            except httpx.RequestError as exc:
                error = exc
            wait = self._wait_before_retry(call, attempts, response, error)
            if wait is None:
                break
            await asyncio.sleep(wait)
        if error is not None:
            raise self._transport_error(call, error, attempts) from None
        assert response is not None
        return response

    async def aclose(self) -> None:
        """Close the connection pool (unless ``http_client`` was given)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
