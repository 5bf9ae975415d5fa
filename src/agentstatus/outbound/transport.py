"""The HTTP client of every outbound request: names resolved here, every address checked
against the policy, and the connection made to the address that was checked (a name that
resolves to a public address when saved and to 127.0.0.1 when used is refused then).

TLS still verifies the certificate against the URL's host name (httpcore passes the
origin's host as ``server_hostname``), and the ``Host`` header is the URL's.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import httpcore
import httpx

from agentstatus.outbound.policy import OutboundPolicy, OutboundRefused

# Lookups run in threads of their own: a tenant's name whose DNS server never answers
# holds one of these, never a thread of the loop's executor, which the requests use.
RESOLVER_THREADS = 8


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, refusing every address the policy refuses."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()
        self._resolver = ThreadPoolExecutor(RESOLVER_THREADS, thread_name_prefix="outbound-dns")

    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address of ``host``, each allowed, or ``OutboundRefused``."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(
                self._resolver,
                lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM),
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        # All or none: a name with one internal address among public ones is refused, so
        # which one a connection picks never matters.
        for address in addresses:
            self._policy.check_address(address)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("refused by the outbound address policy: a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    def close(self) -> None:
        self._resolver.shutdown(wait=False, cancel_futures=True)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` without a proxy, connecting through ``GuardedBackend``.

    httpx (pinned) has no public way to give its pool a network backend; the pool is
    replaced by one built the same way. tests/outbound proves the policy holds through it.
    """

    def __init__(self, policy: OutboundPolicy, *, max_connections: int | None = None) -> None:
        super().__init__(trust_env=False)
        self._backend = GuardedBackend(policy)
        self._pool = httpcore.AsyncConnectionPool(
            # The trust store is certifi's (SSL_CERT_FILE and friends are not read either).
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=self._backend,
        )

    async def aclose(self) -> None:
        await super().aclose()
        self._backend.close()


def outbound_client(policy: OutboundPolicy, timeout: float) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for tenants' URLs: the policy on every connection, no
    proxy, ``.netrc`` or other settings from the environment, no redirects followed.

        async with outbound_client(policy, timeout=10) as client:
            await client.post(url, content=body)
    """
    return httpx.AsyncClient(
        transport=GuardedTransport(policy),
        timeout=timeout,
        trust_env=False,
        follow_redirects=False,
    )
