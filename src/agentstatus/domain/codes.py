"""Organisation codes and API tokens: generated with 192 bits of randomness, stored only
as SHA-256 digests (the secrets are random, so a fast digest is enough)."""

from __future__ import annotations

import hashlib
import secrets
import string

TOKEN_PREFIX = "ast_"  # noqa: S105 - a prefix, not a secret
# A panel link's token: its own prefix, so a leaked one is recognised (and never taken for
# an API token: the two are looked up in separate tables).
PANEL_TOKEN_PREFIX = "asp_"  # noqa: S105 - a prefix, not a secret
# A wall link's token: likewise its own prefix and its own table.
WALL_TOKEN_PREFIX = "asw_"  # noqa: S105 - a prefix, not a secret
# A Voicenter monitor login's socket token and refresh token: their own prefixes (the access
# log redacts them wherever they appear in a path) and their own table.
MONITOR_TOKEN_PREFIX = "asm_"  # noqa: S105 - a prefix, not a secret
MONITOR_REFRESH_PREFIX = "asr_"

STRONG_MIN_LENGTH = 24
STRONG_MIN_DISTINCT = 8
STRONG_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_.~")
STRONG_RULE = (
    f"at least {STRONG_MIN_LENGTH} characters from A-Z a-z 0-9 - _ . ~ "
    f"with at least {STRONG_MIN_DISTINCT} different ones"
)
"""A custom Code set through the API must be strong: as long as half a generated Code (48
hex digits), so 96 bits or more if its characters are random even from the hex digits
alone; from the characters a URL carries unescaped (a CRM puts the Code in a query
string); and not a run of a few characters repeated. A generated Code always qualifies."""


def generate_code() -> str:
    return secrets.token_hex(24)


def _bearer(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def generate_token() -> str:
    return _bearer(TOKEN_PREFIX)


def generate_panel_token() -> str:
    return _bearer(PANEL_TOKEN_PREFIX)


def generate_wall_token() -> str:
    return _bearer(WALL_TOKEN_PREFIX)


def generate_monitor_token() -> str:
    return _bearer(MONITOR_TOKEN_PREFIX)


def generate_monitor_refresh_token() -> str:
    return _bearer(MONITOR_REFRESH_PREFIX)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_strong(code: str) -> bool:
    """Whether ``code`` meets ``STRONG_RULE``."""
    return (
        len(code) >= STRONG_MIN_LENGTH
        and set(code) <= STRONG_ALPHABET
        and len(set(code)) >= STRONG_MIN_DISTINCT
    )
