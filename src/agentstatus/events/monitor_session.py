"""What a Voicenter monitor socket reads (SPEC section 9, issue 25), apart from how it is
carried: ``http/monitor_socket`` speaks socket.io over a WebSocket and hands each message
to its client as ``42["<event>",<payload>]``; ``events/monitor`` makes the messages from
the organisation's feed (the same fan-out as the event streams).

Each message is made once for every socket of the organisation (its JSON encoded once);
a socket only filters them (``updateMonitoredExtensions``) and frames them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MonitorMessage:
    event: str
    """The socket.io event name: ``loginSuccess``, ``loginStatus``, ``AllExtensionsStatus``,
    ``ExtensionEvent``, ``QueueEvent``, ``ExtensionsUpdated``, ``keepaliveResponse``."""
    payload: bytes
    """Its one argument, as JSON."""


class MonitorEnded(Exception):
    """The server ended the session: ``reason`` is ``lagged`` (the socket fell too far
    behind), ``revoked`` (its login was revoked or expired) or ``closed`` (the server is
    stopping). The socket closes; the SDK reconnects (and logs in again when revoked)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MonitorSession(Protocol):
    """One socket's view of its organisation."""

    def greeting(self) -> list[MonitorMessage]:
        """What a socket is sent as it connects, in order: ``loginSuccess``,
        ``loginStatus``, ``AllExtensionsStatus`` (the SDK never asks for them)."""
        ...

    async def next(self) -> list[MonitorMessage]:
        """The next messages for this socket, waiting for them; raises MonitorEnded."""
        ...

    def resync(self) -> list[MonitorMessage]:
        """The answer to ``resync``: ``AllExtensionsStatus`` as it is now."""
        ...

    def monitor(self, extensions: str) -> list[MonitorMessage]:
        """``updateMonitoredExtensions {"extensionsString": "1001,1002"}``: from now on
        only these extensions (numeric ids or SIP names; "" for all), answered with
        ``ExtensionsUpdated`` and the narrowed ``AllExtensionsStatus``."""
        ...

    def keepalive(self) -> MonitorMessage:
        """The answer to ``keepalive`` (or ``keepAlive``): ``keepaliveResponse``."""
        ...

    def close(self) -> None:
        """Detach from the feed and give back the socket's slot (idempotent)."""
        ...
