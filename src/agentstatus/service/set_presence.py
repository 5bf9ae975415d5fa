"""A supervisor sets an agent's status (any enabled status of the organisation, with a
reason): from the board, the management API and the command line, through the one change
path with source ``supervisor`` and the supervisor recorded as the change's actor."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.service import validation
from agentstatus.service.errors import ErrorCode, InvalidInput, NotFound, ServiceError, Unavailable
from agentstatus.service.organisations import org_id
from agentstatus.service.presence import AgentPresence, agent_presence
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import agents
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine
from agentstatus.wire.outcomes import Row


class ExtensionInUse(ServiceError):
    """Another agent holds the extension asked for (HTTP 409)."""

    code = ErrorCode.EXTENSION_IN_USE


def _refusal(row: Row, user_id: str, status: int, extension: str | None) -> ServiceError:
    """The error of an outcome row other than OK, worded for the supervisor."""
    if row is Row.AUTHENTICATION_FAILED:  # deactivated meanwhile
        return NotFound(f"no active agent {user_id!r}", code=ErrorCode.AGENT_NOT_FOUND)
    if row is Row.UNKNOWN_EXTENSION:
        return InvalidInput(f"no extension {extension!r}", code=ErrorCode.EXTENSION_NOT_FOUND)
    if row is Row.STATUS_NOT_SUPPORTED:
        return InvalidInput(
            f"status {status} is not one of the organisation's enabled statuses",
            code=ErrorCode.STATUS_NOT_AVAILABLE,
        )
    if row is Row.EXTENSION_IN_USE:
        return ExtensionInUse(f"extension {extension!r} is held by another agent")
    return Unavailable("the database did not take the change; nothing was applied")


@dataclass(frozen=True, slots=True)
class SupervisorChange:
    """What a supervisor asks: the agent, the status, where (None: where the agent is), why
    (None: no reason given) and who asks."""

    user_id: str
    status: int
    extension: str | None
    reason: str | None
    actor: str | None


def _agent_and_place(
    engine: Engine, org: str, ask: SupervisorChange
) -> tuple[int, int, str | None]:
    """The organisation's id, the agent's row id, and the extension the change puts the
    agent at: the one asked for, else the one it holds (none for a logout)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        agent_id = agents.find_id(conn, oid, ask.user_id)
    if agent_id is None:
        raise NotFound(f"no agent {ask.user_id!r} in {org!r}", code=ErrorCode.AGENT_NOT_FOUND)
    if ask.status == LOGOUT:
        return oid, agent_id, None
    if ask.extension is not None:
        return oid, agent_id, ask.extension
    now = agent_presence(engine, agent_id)
    if now is None or now.extension is None:
        raise InvalidInput(
            f"{ask.user_id!r} is logged out: name the extension to put the agent at",
            code=ErrorCode.EXTENSION_REQUIRED,
        )
    return oid, agent_id, now.extension


async def set_presence(
    changes: StatusChanges, engine: Engine, org: str, ask: SupervisorChange
) -> AgentPresence:
    """Apply the supervisor's change; the agent's presence after it (also when nothing
    changed: the agent was already there). Refusals raise the error of their code."""
    reason = validation.reason(ask.reason)
    extension = None if ask.extension is None else validation.identifier("extension", ask.extension)
    asked = SupervisorChange(ask.user_id, ask.status, extension, reason, ask.actor)
    oid, agent_id, place = await asyncio.to_thread(_agent_and_place, engine, org, asked)
    command = StatusCommand(
        ask.user_id,
        place,
        ask.status,
        Source.SUPERVISOR,
        org_id=oid,
        reason=reason,
        actor=ask.actor,
    )
    result = await changes.apply(command)
    if result.row is not Row.OK:
        raise _refusal(result.row, ask.user_id, ask.status, place)
    found = await asyncio.to_thread(agent_presence, engine, agent_id)
    if found is None:  # removed meanwhile
        raise NotFound(f"no agent {ask.user_id!r} in {org!r}", code=ErrorCode.AGENT_NOT_FOUND)
    return found
