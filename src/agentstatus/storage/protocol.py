"""The storage interface the service is written against; one implementation per engine."""

from __future__ import annotations

from typing import Protocol

from agentstatus.domain.commands import StatusCommand, StatusResult


class StatusStore(Protocol):
    """Applies status commands atomically and durably.

    ``apply`` returns only once the change (and its history row) is committed to durable
    storage; a result of row 11 means nothing was applied.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def apply(self, command: StatusCommand) -> StatusResult: ...

    async def ping(self) -> bool: ...
