"""How webhook requests are signed, and how a receiver checks them.

``X-Agentstatus-Signature: v1=<hex>`` where hex is HMAC-SHA256 over
``<X-Agentstatus-Timestamp>.<raw body>`` keyed with the endpoint's secret. A receiver
recomputes it, compares in constant time, and rejects timestamps older than a few minutes.

Beside it, every request carries the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``),
so that a receiver using a Standard Webhooks library verifies it unchanged; the key is the
endpoint secret's Standard Webhooks key (domain/webhook_secret.py). The HMAC is computed
with the standard library (hmac, hashlib, base64): signing is three lines, not worth a
runtime dependency. The ``standardwebhooks`` package (a dev dependency) is the receiver in
the tests, which verify every delivery with it, so a departure from it fails them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from agentstatus.domain.webhook_secret import standard_key

SIGNATURE_HEADER = "X-Agentstatus-Signature"
TIMESTAMP_HEADER = "X-Agentstatus-Timestamp"
EVENT_ID_HEADER = "X-Agentstatus-Event-Id"
EVENT_TYPE_HEADER = "X-Agentstatus-Event-Type"
DELIVERY_HEADER = "X-Agentstatus-Delivery-Id"

# Standard Webhooks: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def standard_sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``
    keyed with the secret's Standard Webhooks key."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: int, tolerance: int = 300
) -> bool:
    """The receiver's side: True when the signature matches and the timestamp is fresh."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
