"""The outbound address policy: which addresses the service may connect to on a tenant's
behalf (webhooks now, the phone-system connectors later), and which URLs it accepts.

By default only addresses that are routable on the public internet are allowed; the
operator allows more with ``AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS`` (the LAN of a
self-hosted CRM, or ``127.0.0.0/8`` in tests). Pure: no I/O; the transport resolves names
and asks this module about every address before it connects.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from agentstatus.domain.addresses import HOST_NAME, NUMERIC_LABEL, Network, parse_network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL = 2048

# Refused unless allowed, with the reason a refusal names. Not "reachable from the public
# internet" (RFC 6890 and the IANA special-purpose registries), or not unicast.
REFUSED: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified ('this network')"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (and broadcast)"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/8", "reserved (IPv4-compatible)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo, benchmarking)"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(ValueError):
    """The policy refuses a URL or an address; the message names neither path nor query."""


def effective(ip: Address) -> Address:
    """The address a connection reaches: IPv4-mapped (``::ffff:127.0.0.1``) and NAT64
    (``64:ff9b::7f00:1``) forms are judged as the IPv4 address they carry."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Public unicast addresses, plus ``allowed`` (which wins over every refusal)."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, value: str) -> OutboundPolicy:
        """From a comma-separated list of CIDRs; ``AddressError`` names a bad entry."""
        return cls(tuple(parse_network(p) for p in value.split(",") if p.strip()))

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be connected to, or None when it may."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            return f"{ip} has a zone (a link-local scope)"
        target = effective(ip)
        if any(target in net for net in self.allowed if net.version == target.version):
            return None
        for net, reason in REFUSED:
            if net.version == target.version and target in net:
                return f"{ip} is {reason}"
        return None

    def check_address(self, address: str) -> None:
        reason = self.refusal(address)
        if reason is not None:
            raise OutboundRefused(f"refused by the outbound address policy: {reason}")


def check_url(url: str, policy: OutboundPolicy) -> str:
    """The URL stripped, when it is an http(s) URL the policy may allow; ``OutboundRefused``
    otherwise. A literal address is judged now; a name is judged on every connection, on
    each address it resolves to (it may resolve differently later)."""
    url = url.strip()
    if len(url) > MAX_URL or any(not ch.isprintable() for ch in url):
        raise OutboundRefused("the URL must be at most 2048 printable characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # ValueError when out of range
    except ValueError:  # e.g. an unclosed [IPv6 address
        raise OutboundRefused("the URL cannot be parsed") from None
    if parts.scheme not in ("http", "https") or not host or port == 0:
        raise OutboundRefused("the URL must be http:// or https:// with a host (and port 1-65535)")
    if "@" in parts.netloc:
        raise OutboundRefused("the URL must not carry a user name or password (user:pass@)")
    if "[" in parts.netloc:
        literal = host
    else:
        if not NUMERIC_LABEL.match(host.removesuffix(".").split(".")[-1]):
            try:
                name = httpx.URL(url).raw_host.decode("ascii")  # IDNA: bücher.de is xn--...
            except (httpx.InvalidURL, UnicodeError):
                name = ""
            if not HOST_NAME.match(name):
                raise OutboundRefused("the URL's host is not a valid host name")
            return url
        try:
            literal = str(ipaddress.IPv4Address(host))
        except ValueError:
            raise OutboundRefused(
                "write an IPv4 address as four decimal numbers (a.b.c.d), or use a host name"
            ) from None
    policy.check_address(literal)
    return url
