"""An agent's place in the pages' addresses: ``/o/{org}/agents/{segment}``.

A user id may hold anything printable, ``/`` and ``..`` included. It is written as one
percent-encoded segment (``a/b`` is ``a%2Fb``; the route takes a path, so the server reads
``a/b`` back). A whole segment of ``.`` or ``..`` cannot be sent at all: a browser (and
httpx) resolves it, encoded or not, before the request leaves. Those ids, and any that
starts with ``~``, are written as ``~`` and the hex of their UTF-8 (``..`` is ``~2e2e``);
``board.js`` writes the same.
"""

from __future__ import annotations

from urllib.parse import quote

HEX_MARK = "~"


def agent_segment(user_id: str) -> str:
    if user_id in (".", "..") or user_id.startswith(HEX_MARK):
        return HEX_MARK + user_id.encode().hex()
    return quote(user_id, safe="")


def user_id_of(segment: str) -> str | None:
    """The user id a (decoded) segment names; None for a ``~`` form that is not hex."""
    if not segment.startswith(HEX_MARK):
        return segment
    try:
        return bytes.fromhex(segment[1:]).decode()
    except (ValueError, UnicodeDecodeError):
        return None
