"""The storage interface of a status change, written against by the service layer.

A status change is a conversation: the service's :func:`~agentstatus.service.status_change.
status_change` yields storage steps (read the facts, write the change, write the audit
entry) and an engine answers each one. The engine decides only how: inside one batched
SQLite transaction, or as autocommitted PostgreSQL statements with a compare-and-set. The
rules of the change live in the service layer, once, for every engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from agentstatus.domain.commands import StatusCommand, StatusResult
from agentstatus.domain.decision import Change
from agentstatus.storage.event_log import NewEvent


@dataclass(frozen=True, slots=True)
class ReadFacts:
    """Read what the outcomes table asks about; answered with :class:`AgentFacts`, or None
    when no organisation matches the command's Code (or id)."""

    command: StatusCommand


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """One row of facts. The agent's fields are None when the organisation has no agent of
    that user id; ``requested_extension_id`` when it has no such extension."""

    org_id: int
    allowlist: str | None
    agent_id: int | None
    agent_active: bool
    status: int
    extension: str | None
    version: int
    requested_extension_id: int | None
    extension_holder: str | None
    status_enabled: bool
    status_limit_seconds: int | None = None
    """The requested status's limit (None: none, or the status is not enabled)."""
    wrap_up_due_ms: int | None = None
    """When the wrap-up the agent is in (at ``version``) is due to end (None: none, or
    not timed): a wrap-up's end applies only if it is still the one its deadline was
    for (a call ending meanwhile restarted it)."""


@dataclass(frozen=True, slots=True)
class WriteChange:
    """Move the agent's presence and append its event (``storage.event_log``), in one
    transaction, only if the presence row is still at ``seen_version``. Answered with the
    new history id, or a :class:`WriteRefused`."""

    org_id: int
    agent_id: int
    user_id: str
    seen_version: int
    new_extension_id: int | None
    change: Change
    kind: str
    at_ms: int
    source: str
    client_addr: str | None
    policy: str | None = None
    due_ms: int | None = None
    reason: str | None = None
    actor: str | None = None
    detail: str | None = None
    deadline_ms: int | None = None
    """When the new status's limit passes: a deadline is planned for the new version."""
    wrap_up_due_ms: int | None = None
    """A wrap-up's end: written only if the agent's wrap-up is still due then (with the
    version check, in the one statement on PostgreSQL, whose facts are read apart)."""

    def event(self) -> NewEvent:
        previous, new = self.change.previous, self.change.new
        return NewEvent(
            org_id=self.org_id,
            agent_id=self.agent_id,
            user_id=self.user_id,
            prev_extension=previous.extension,
            new_extension=new.extension,
            prev_status=previous.status,
            new_status=new.status,
            at_ms=self.at_ms,
            source=self.source,
            kind=self.kind,
            client_addr=self.client_addr,
            policy=self.policy,
            due_ms=self.due_ms,
            reason=self.reason,
            actor=self.actor,
            detail=self.detail,
        )


class WriteRefused(Enum):
    CONFLICT = "the presence row changed since its facts were read"
    EXTENSION_TAKEN = "another agent took the extension meanwhile"
    """The database's unique index on the extension settled a race."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Record a refused request (or a failed authentication); answered with None."""

    org_id: int | None
    code_hash: str | None
    user_id: str
    row: int
    endpoint: str
    source: str
    client_addr: str | None
    at_ms: int


Step = ReadFacts | WriteChange | AuditEntry
Reply = AgentFacts | int | WriteRefused | None
Steps = Generator[Step, Reply, StatusResult]


def drive(steps: Steps, answer: Callable[[Step], Reply]) -> StatusResult:
    """Run a status change to its result, answering each step synchronously."""
    reply: Reply = None
    while True:
        try:
            step = steps.send(reply)
        except StopIteration as done:
            result: StatusResult = done.value
            return result
        reply = answer(step)


async def drive_async(steps: Steps, answer: Callable[[Step], Awaitable[Reply]]) -> StatusResult:
    """The same, for an engine whose steps are awaited."""
    reply: Reply = None
    while True:
        try:
            step = steps.send(reply)
        except StopIteration as done:
            result: StatusResult = done.value
            return result
        reply = await answer(step)


class StatusStore(Protocol):
    """Runs status changes atomically and durably.

    ``run`` returns only once the change (and its history row) is committed to durable
    storage; a result of row 11 means nothing was applied. ``steps`` makes a fresh
    conversation; an engine that must start over (a batch rolled back) calls it again.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run(self, steps: Callable[[], Steps]) -> StatusResult: ...

    async def ping(self) -> bool: ...
