"""The one path of every status change, whoever makes it: the Voicenter endpoints, the
native API, the CLI, deactivation and extension removal, and the producers to come.

:func:`status_change` is the rule book, free of I/O: it asks storage for the facts, lets
:func:`~agentstatus.domain.decision.decide` answer, and asks storage to write the change
(compare and set) or the audit entry. :class:`StatusChanges` runs it on the engine and,
once the change is committed, tells whoever follows changes (this instance's event
streams, the other instances).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from agentstatus.domain.addresses import address_allowed
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand, StatusResult
from agentstatus.domain.decision import Facts, Presence, decide
from agentstatus.domain.event_types import change_kind
from agentstatus.domain.wrap_up import WRAP_UP_POLICY
from agentstatus.service.errors import Unavailable
from agentstatus.storage.protocol import (
    AgentFacts,
    AuditEntry,
    ReadFacts,
    StatusStore,
    Steps,
    WriteChange,
    WriteRefused,
)
from agentstatus.storage.stores import announce_once, create_status_store
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)
T = TypeVar("T")

# How many times a change is decided again when its agent keeps changing under it.
ATTEMPTS = 20

WIRE_ENDPOINT = "SetStatusFromAPI"
# Sources that act for the organisation itself, after their own authorisation: they may
# log out an agent that is no longer active (deactivation logs out after deactivating).
_TRUSTED = frozenset({Source.ADMIN, Source.SYSTEM})
# Sources whose identical status again is a rule's, not a person's: not announced again.
_AUTOMATIC = frozenset({Source.SYSTEM, Source.PBX})


def _when(cmd: StatusCommand) -> int:
    return now_ms() if cmd.at_ms is None else cmd.at_ms


def _audit(cmd: StatusCommand, org_id: int | None, row: Row) -> AuditEntry:
    return AuditEntry(
        org_id=org_id,
        code_hash=cmd.code_hash,
        user_id=cmd.user_id,
        row=int(row),
        endpoint=WIRE_ENDPOINT if cmd.source in (Source.GET, Source.POST) else cmd.source.value,
        source=cmd.source.value,
        client_addr=cmd.client_addr,
        at_ms=_when(cmd),
    )


def _facts(cmd: StatusCommand, found: AgentFacts) -> Facts:
    active = found.agent_id is not None and (
        found.agent_active or (cmd.source in _TRUSTED and cmd.status == LOGOUT)
    )
    return Facts(
        agent_active=active,
        address_allowed=cmd.code_hash is None or address_allowed(found.allowlist, cmd.client_addr),
        extension_exists=None
        if cmd.extension is None
        else found.requested_extension_id is not None,
        status_enabled=cmd.status is not None and found.status_enabled,
        current=Presence(found.extension, found.status),
        extension_holder=found.extension_holder,
    )


def status_change(cmd: StatusCommand) -> Steps:
    """The conversation of one change with storage; its value is the result."""
    for _ in range(ATTEMPTS):
        found = yield ReadFacts(cmd)
        if not isinstance(found, AgentFacts):
            yield _audit(cmd, None, Row.AUTHENTICATION_FAILED)
            return StatusResult(Row.AUTHENTICATION_FAILED)
        if cmd.expected_version is not None and found.version != cmd.expected_version:
            return StatusResult(Row.OK, found.org_id)  # overtaken: the policy has nothing to do
        wrap_up_due = cmd.due_ms if cmd.policy == WRAP_UP_POLICY else None
        if wrap_up_due is not None and found.wrap_up_due_ms != wrap_up_due:
            return StatusResult(Row.OK, found.org_id)  # a call's end restarted the wrap-up
        decision = decide(_facts(cmd, found), cmd.user_id, cmd.extension, cmd.status)
        change = decision.change
        if decision.row is not Row.OK:
            yield _audit(cmd, found.org_id, decision.row)
            return StatusResult(decision.row, found.org_id)
        if change is None:  # the same status (and extension) again: nothing to record
            if cmd.source in _AUTOMATIC:
                return StatusResult(Row.OK, found.org_id)
            return StatusResult(Row.OK, found.org_id, at_ms=_when(cmd), repeated=cmd.user_id)
        assert found.agent_id is not None  # decide() answered row 6 otherwise
        at = _when(cmd)
        limit = found.status_limit_seconds
        written = yield WriteChange(
            org_id=found.org_id,
            agent_id=found.agent_id,
            user_id=cmd.user_id,
            seen_version=found.version,
            new_extension_id=found.requested_extension_id if change.new.extension else None,
            change=change,
            kind=change_kind(change.previous.status, change.new.status, cmd.reason),
            at_ms=at,
            source=cmd.source.value,
            client_addr=cmd.client_addr,
            policy=cmd.policy,
            due_ms=cmd.due_ms,
            reason=cmd.reason,
            actor=cmd.actor,
            deadline_ms=None if limit is None or change.new.status == LOGOUT else at + limit * 1000,
            wrap_up_due_ms=wrap_up_due,
        )
        if isinstance(written, int):
            return StatusResult(Row.OK, found.org_id, change, written, at)
        if written is WriteRefused.EXTENSION_TAKEN:
            yield _audit(cmd, found.org_id, Row.EXTENSION_IN_USE)
            return StatusResult(Row.EXTENSION_IN_USE, found.org_id)
    log.warning("status change failed: the agent kept changing under it")
    return StatusResult(Row.UPDATE_FAILED)


AfterCommit = Callable[[StatusResult], None]


class StatusChanges:
    """Runs every status change through :func:`status_change` on the store, and announces
    each applied one after its commit (``after_commit``: wake this instance's streams,
    tell the other instances), and each identical status set again (``repeated``: for
    Voicenter's monitor sockets; nothing was committed)."""

    def __init__(self, store: StatusStore, after_commit: AfterCommit) -> None:
        self.store = store
        self._after_commit = after_commit

    async def start(self) -> None:
        await self.store.start()

    async def close(self) -> None:
        await self.store.close()

    async def ping(self) -> bool:
        return await self.store.ping()

    async def apply(self, command: StatusCommand) -> StatusResult:
        result = await self.store.run(lambda: status_change(command))
        if result.change is not None or result.repeated is not None:
            self._after_commit(result)
        return result

    async def logout(
        self, org_id: int, user_id: str, source: Source = Source.ADMIN, actor: str | None = None
    ) -> bool:
        """Log one agent out; False when it was already logged out. ``actor``: who asked
        (the web user's e-mail, the token's label), recorded in the history."""
        command = StatusCommand(user_id, None, LOGOUT, source, org_id=org_id, actor=actor)
        result = await self.apply(command)
        if result.row is Row.UPDATE_FAILED:
            raise Unavailable("the database did not take the change; nothing was applied")
        return result.change is not None


@asynccontextmanager
async def standalone_changes(
    database_url: str, timeout_seconds: float = 5.0
) -> AsyncIterator[StatusChanges]:
    """The change path outside a server (the CLI): its own engine connection, and the
    servers on the same PostgreSQL told of every organisation that changed."""
    changed: set[int] = set()

    def remember(result: StatusResult) -> None:
        if result.org_id is not None and result.change is not None:
            changed.add(result.org_id)

    changes = StatusChanges(create_status_store(database_url, timeout_seconds), remember)
    await changes.start()
    try:
        yield changes
    finally:
        await changes.close()
        await announce_once(database_url, changed)


def run_standalone(
    database_url: str,
    operation: Callable[[StatusChanges], Awaitable[T]],
    timeout_seconds: float = 5.0,
) -> T:
    """Run ``operation`` on a standalone change path, from synchronous code."""

    async def main() -> T:
        async with standalone_changes(database_url, timeout_seconds) as changes:
            return await operation(changes)

    return asyncio.run(main())
