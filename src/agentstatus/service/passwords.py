"""Password hashing for the web's users: Argon2id through pwdlib, rehashed on sign-in
when the parameters change, and a dummy check for unknown e-mails so that the time a
sign-in takes tells nothing about whether the account exists."""

from __future__ import annotations

import secrets
import threading
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from agentstatus.service.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
GENERATED_BYTES = 15  # 20 URL-safe characters, 120 bits
# Each check takes 64 MiB for a fraction of a second: a burst of sign-ins must not take
# gigabytes. Two at a time keep both cores busy; the others wait their turn.
CONCURRENT_CHECKS = 2
_checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)


@cache
def _hasher() -> PasswordHash:
    # argon2-cffi's defaults (RFC 9106's second recommendation: t=3, 64 MiB, p=4).
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def check_new(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters")
    if any(not ch.isprintable() for ch in password):
        raise InvalidInput("a password must not contain control characters")
    return password


def generate() -> str:
    return secrets.token_urlsafe(GENERATED_BYTES)


def hash_password(password: str) -> str:
    with _checks:
        return _hasher().hash(password)


def verify(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored`` (None: no such user, checked against a
    dummy), and the new hash to store when the parameters have changed."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # cost bounded; such a password never matches
        stored = None
    dummy = _dummy_hash() if stored is None else None
    with _checks:
        if dummy is not None:
            _hasher().verify(password, dummy)
            return False, None
        try:
            return _hasher().verify_and_update(password, stored or "")
        except Exception:
            # A hash this version cannot read, or an account that has no password (made by
            # single sign-on): a wrong password, as slow as any other, so that the time an
            # answer takes does not tell such an account from the others.
            _hasher().verify(password, _dummy_hash())
            return False, None
