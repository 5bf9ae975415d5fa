"""Webhook signing secrets, and the Standard Webhooks form of each.

Standard Webhooks (https://www.standardwebhooks.com/) keys its HMAC with the bytes of a
``whsec_<base64>`` secret. New secrets are made in that form, so one string serves both our
``X-Agentstatus-Signature`` (keyed with the secret's text, as always) and the Standard
Webhooks signature (keyed with the bytes it encodes). Any other secret — chosen by an admin,
or generated before (``whsec_`` + URL-safe base64, which is not the standard alphabet) — keeps
working unchanged: its Standard Webhooks key is its text as UTF-8, presented to a receiver as
``whsec_`` + base64 of that text. A secret is taken as standard only when it is ``whsec_`` and
canonical padded standard base64, so that the rule is one a receiver can apply by hand.
"""

from __future__ import annotations

import base64
import binascii
import secrets

PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _standard_bytes(secret: str) -> bytes | None:
    """The key a standard ``whsec_`` secret encodes, or None when it is not one."""
    if not secret.startswith(PREFIX):
        return None
    encoded = secret[len(PREFIX) :]
    if not encoded or len(encoded) % 4:
        return None
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Canonical only (the unused low bits zero): decoding and encoding give the same text.
    return key if key and base64.b64encode(key).decode() == encoded else None


def standard_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature for this endpoint secret."""
    key = _standard_bytes(secret)
    return key if key is not None else secret.encode()


def standard_secret(secret: str) -> str:
    """The ``whsec_`` string a receiver gives to a Standard Webhooks library: the secret
    itself when it is standard, otherwise ``whsec_`` + base64 of its text."""
    if _standard_bytes(secret) is not None:
        return secret
    return PREFIX + base64.b64encode(secret.encode()).decode()
