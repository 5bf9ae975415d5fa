"""TCP connections to a tenant's host (the phone-system connectors): the name resolved
here, every address it resolves to checked against the policy (all or none, as for
webhooks), and the connection made to a checked address."""

from __future__ import annotations

import asyncio
import socket

from agentstatus.outbound.policy import OutboundPolicy


async def resolve_checked(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Every address of ``host``, each allowed; ``OutboundRefused`` or ``OSError``."""
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        policy.check_address(address)
    return addresses


async def open_checked(
    host: str, port: int, policy: OutboundPolicy, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``host:port`` through the policy, within ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        addresses = await resolve_checked(host, port, policy)
        failure: OSError | None = None
        for address in addresses:
            try:
                return await asyncio.open_connection(address, port, limit=2**20)
            except OSError as exc:
                failure = exc
    assert failure is not None
    raise failure
