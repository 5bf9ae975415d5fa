"""Client addresses: allow-lists of addresses and CIDR ranges, trusted proxies, and the
forms a host name may take."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

import orjson

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# A host whose last label is a number is an IPv4 address to a URL parser and to
# inet_aton (``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``): only the four
# decimal numbers of ``ipaddress`` are accepted, so that what is saved is what is reached.
NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$", re.IGNORECASE)
HOST_NAME = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$", re.IGNORECASE)


class AddressError(ValueError):
    """An entry is neither an IP address nor a CIDR range."""


def parse_network(entry: str) -> Network:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError as exc:
        raise AddressError(f"not an IP address or CIDR range: {entry!r}") from exc


def normalise_allowlist(entries: Iterable[str]) -> list[str]:
    """Validate entries and return them in canonical form (``10.0.0.0/8``)."""
    return [str(parse_network(e)) for e in entries if e.strip()]


@lru_cache(maxsize=1024)
def _networks(allowlist_json: str) -> tuple[Network, ...]:
    return tuple(parse_network(e) for e in orjson.loads(allowlist_json))


def address_in(networks: Iterable[Network], address: str | None) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def address_allowed(allowlist_json: str | None, address: str | None) -> bool:
    """True when the organisation has no allow-list, or the address is inside it."""
    if allowlist_json is None:
        return True
    return address_in(_networks(allowlist_json), address)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    """The client's address: the socket peer, or the last untrusted hop of
    ``X-Forwarded-For`` when (and only when) the peer is a trusted proxy."""
    if peer is None or not forwarded_for or not trusted or not address_in(trusted, peer):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not address_in(trusted, hop):
            try:
                ip = ipaddress.ip_address(hop)
            except ValueError:
                return peer
            # A scope (fe80::1%eth0) means nothing beyond the proxy's own link.
            return peer if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id else str(ip)
    return hops[0] if hops else peer
