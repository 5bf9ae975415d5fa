"""Outbound connections made on a tenant's behalf (webhooks, phone-system connectors): the
address policy and the HTTP client that enforces it on every connection."""

from agentstatus.outbound.policy import REFUSED, OutboundPolicy, OutboundRefused, check_url
from agentstatus.outbound.transport import GuardedTransport, outbound_client

__all__ = [
    "REFUSED",
    "GuardedTransport",
    "OutboundPolicy",
    "OutboundRefused",
    "check_url",
    "outbound_client",
]
