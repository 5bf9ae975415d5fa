"""Encrypting the secrets we must be able to read back (webhook signing secrets).

Codes and tokens are only ever compared, so they are stored as digests; a webhook secret
is used to sign, so it is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a
key that lives outside the database.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

MALFORMED_KEY = (
    "must be 32 url-safe base64-encoded bytes (make one with: python -c "
    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
)


class SecretKeyError(RuntimeError):
    """No usable encryption key: set AGENTSTATUS_SECRET_KEY."""


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(f"AGENTSTATUS_SECRET_KEY {MALFORMED_KEY}") from None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a webhook secret cannot be decrypted: AGENTSTATUS_SECRET_KEY is not the key "
                "it was stored with"
            ) from None
