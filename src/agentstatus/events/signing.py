"""How webhook requests are signed, and how a receiver checks them.

``X-Agentstatus-Signature: v1=<hex>`` where hex is HMAC-SHA256 over
``<X-Agentstatus-Timestamp>.<raw body>`` keyed with the endpoint's secret. A receiver
recomputes it, compares in constant time, and rejects timestamps older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Agentstatus-Signature"
TIMESTAMP_HEADER = "X-Agentstatus-Timestamp"
EVENT_ID_HEADER = "X-Agentstatus-Event-Id"
EVENT_TYPE_HEADER = "X-Agentstatus-Event-Type"
DELIVERY_HEADER = "X-Agentstatus-Delivery-Id"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: int, tolerance: int = 300
) -> bool:
    """The receiver's side: True when the signature matches and the timestamp is fresh."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
