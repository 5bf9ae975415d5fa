"""The answers of Voicenter's Comet endpoints, ``GetExtensions`` and ``GetExtensionsCalls``
(SPEC.md section 4).

The field names and descriptions are part of the exposed HTTP API; don't rename them.
"""

from __future__ import annotations

# The envelope: part of the exposed HTTP API; don't rename.
ERR = "ERR"
DESC = "DESC"
EXTENSIONS = "EXTENSIONS"
ERR_OK = 0
ERR_REFUSED = 1
DESC_OK = "OK"
DESC_UNAUTHORIZED = "Unauthorized"
DESC_UNAVAILABLE = "Service unavailable"

# A GetExtensions item: part of the exposed HTTP API; don't rename.
SIP = "SIP"
NAME = "Name"

# A GetExtensionsCalls item: part of the exposed HTTP API; don't rename.
USERNAME = "username"
USER_NAME = "name"
ONLINE_USER_ID = "onlineUserID"
ONLINE_USER_STATUS = "onlineUserStatus"
CALLS = "calls"


def unauthorized() -> dict[str, int | str]:
    """A Code that is missing, unreadable, unknown, blocked or not allowed from here."""
    return {ERR: ERR_REFUSED, DESC: DESC_UNAUTHORIZED}


def unavailable() -> dict[str, int | str]:
    """The database could not be read (sent with HTTP 503)."""
    return {ERR: ERR_REFUSED, DESC: DESC_UNAVAILABLE}


def ok(extensions: list[dict[str, object]]) -> dict[str, object]:
    return {ERR: ERR_OK, DESC: DESC_OK, EXTENSIONS: extensions}


def extension(sip: str, name: str) -> dict[str, object]:
    """One item of ``GetExtensions``."""
    return {SIP: sip, NAME: name}


def extension_calls(sip: str, name: str, user_id: str | None, status: int) -> dict[str, object]:
    """One item of ``GetExtensionsCalls``: who holds the extension, in which status."""
    return {
        USERNAME: sip,
        USER_NAME: name,
        ONLINE_USER_ID: online_user_id(user_id),
        ONLINE_USER_STATUS: status,
        CALLS: [],
    }


def online_user_id(user_id: str | None) -> int | str:
    """Voicenter sends numeric user ids as numbers, and 0 when nobody is logged in."""
    if user_id is None:
        return 0
    return int(user_id) if user_id.isascii() and user_id.isdigit() else user_id
