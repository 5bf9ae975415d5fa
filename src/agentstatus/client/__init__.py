"""A Python client of the Voicenter-compatible status API, for agentstatus and for
``https://api.voicenter.com`` alike. It needs only ``httpx`` and the standard library.

    from agentstatus.client import AgentStatus, Client

    with Client("XXXX", "http://127.0.0.1:8000") as client:
        client.set_status("1001", "sip1001", AgentStatus.LUNCH_BREAK)

A status change is idempotent, so the client retries it safely (with backoff and jitter)
on connection errors, 429, 502, 503 and 504; refusals raise one ``AgentStatusError``
subclass per kind (see ``agentstatus.client._exceptions`` for the tree).
"""

from ._base import BaseClient
from ._client import AsyncClient, Client
from ._exceptions import (
    AgentStatusError,
    AuthorizationFailed,
    ExtensionInUse,
    ExtensionNotFound,
    MissingParameter,
    RateLimited,
    StatusNotSupported,
    TransportError,
    UpdateFailed,
)
from ._models import (
    AgentStatus,
    Extension,
    ExtensionPresence,
    Queue,
    QueueCaller,
    Status,
    StatusResult,
)
from ._retry import RetryPolicy

__all__ = [
    "AgentStatus",
    "AgentStatusError",
    "AsyncClient",
    "AuthorizationFailed",
    "BaseClient",
    "Client",
    "Extension",
    "ExtensionInUse",
    "ExtensionNotFound",
    "ExtensionPresence",
    "MissingParameter",
    "Queue",
    "QueueCaller",
    "RateLimited",
    "RetryPolicy",
    "Status",
    "StatusNotSupported",
    "StatusResult",
    "TransportError",
    "UpdateFailed",
]
