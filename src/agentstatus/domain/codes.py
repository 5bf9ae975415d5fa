"""Organisation codes and API tokens: generated with 192 bits of randomness, stored only
as SHA-256 digests (the secrets are random, so a fast digest is enough)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ast_"  # noqa: S105 - a prefix, not a secret


def generate_code() -> str:
    return secrets.token_hex(24)


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
