"""Acting on the policies' deadlines: one loop per instance, whatever the number of agents.

Every ``TICK_SECONDS`` the loop claims the deadlines that have passed (a lease in the
database: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single writer on SQLite), so that
however many instances share a database each deadline is taken by one of them, and acts:

- a **limit** with ``warn``: one transaction deletes the deadline and writes the warning
  (a history row, type ``agent.overdue``, with its webhook deliveries), only if the agent is
  still in the status, at the version the deadline was planned for;
- a **limit** with ``login`` or ``logout``: a status change through the one change path,
  source ``system``, that applies only at that version (``expected_version``);
- the **shift end**: every agent logged in when it was due is logged out the same way,
  and the next shift end is planned;
- a timed **wrap-up**'s end: the agent goes back to the status it held before the call
  (or to the one it queued as next), at that version (``service/wrap_up.py``).

A change made after the deadline was planned moved the version on, so the deadline does
nothing: that is how a change cancels it. An instance that dies holding a claim leaves it
to lapse (``CLAIM_SECONDS``) and another takes it; what the first one did is not done again,
by the same version check. The history records the policy, when it was due (``due_ms``) and
when it was applied (``at_ms``), also for a deadline that passed while no instance ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import OVERDUE_EVENT, WARN_POLICY
from agentstatus.domain.policies import LimitAction, ShiftEnd
from agentstatus.domain.wrap_up import WRAP_UP_KIND
from agentstatus.service import phone_registration, wrap_up
from agentstatus.service.shift_plan import SHIFT, replan_shift, shift_of
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.timezones import timezone_of
from agentstatus.storage import deadline_plans
from agentstatus.storage.database import reading
from agentstatus.storage.deadline_plans import Due
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.phone_states import PHONE_DEADLINE
from agentstatus.storage.types import Connection, Engine
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
"""How often passed deadlines are looked for: each is acted on within about this."""
MIN_PAUSE = 0.05
"""The shortest wait between two rounds: a deadline that keeps failing is retried at most
this often."""
CLAIM_SECONDS = 30.0
BATCH = 500
"""Deadlines claimed at once; a full batch is followed by another without waiting."""
CONCURRENT_CHANGES = 64
WARN_CHUNK = 50
"""Warnings written in one transaction: a limit set on a status thousands are in makes
thousands due at once, and one transaction each kept the database's write lock from
other organisations' changes (20,000 warnings: their p99 was 635 ms)."""
WARN_PAUSE_SECONDS = 0.1
"""Between two chunks of warnings, the other writers' turn: at least this (longer than
SQLite's busy handler sleeps between two tries, so a waiting writer gets the lock), and
at least twice what the chunk took (the warnings take at most a third of the writing)."""
SHIFT_POLICY = "shift-end"

Announce = Callable[[int], None]
"""Tell this instance's streams and the other instances that an organisation changed."""


def claim_due(engine: Engine, at: int, claim_ms: int, limit: int = BATCH) -> list[Due]:
    """Claim up to ``limit`` passed deadlines no live claim holds, earliest first."""
    return deadline_plans.claim_due(engine, at, claim_ms, limit)


def release(engine: Engine, deadline_id: int) -> None:
    """Give a claim back at once (the action failed for now; the next round retries)."""
    deadline_plans.release(engine, deadline_id)


def finish(engine: Engine, deadline_id: int) -> None:
    deadline_plans.finish_many(engine, [deadline_id])


def finish_many(engine: Engine, deadline_ids: list[int]) -> None:
    """Delete deadlines that have nothing left to do, in one transaction."""
    deadline_plans.finish_many(engine, deadline_ids)


@dataclass(frozen=True, slots=True)
class AgentInLimit:
    """The agent of a limit's deadline, if it is still where the deadline found it."""

    user_id: str
    extension: str | None
    action: LimitAction


def _agent_in_limit(conn: Connection, d: Due) -> AgentInLimit | None:
    assert d.agent_id is not None
    row = deadline_plans.limit_agent(conn, d.agent_id)
    if (
        row is None
        or not row.active
        or row.version != d.version
        or row.status != d.status
        or row.limit_seconds is None
        or d.due_ms != row.since_ms + row.limit_seconds * 1000
    ):
        # Changed since, deactivated, the limit cleared, or planned for another limit (a
        # change that raced a new limit): the plan of the limit in force is the one to act.
        return None
    try:
        action = LimitAction(row.limit_action or LimitAction.WARN.value)
    except ValueError:
        action = LimitAction.WARN
    return AgentInLimit(row.user_id, row.extension, action)


def limit_actions(engine: Engine, due: list[Due]) -> dict[int, AgentInLimit]:
    """For each limit deadline still current, the agent and what to do (one read)."""
    with reading(engine) as conn:
        found = {d.id: _agent_in_limit(conn, d) for d in due}
    return {k: v for k, v in found.items() if v is not None}


def warn(engine: Engine, d: Due, at: int) -> int | None:
    """The warning of one deadline, atomically with its deletion; the history id, or None
    when there is nothing to warn of (another instance did, or the agent moved on)."""
    return warn_many(engine, [d], at)[0]


def warn_many(engine: Engine, due: list[Due], at: int) -> list[int | None]:
    """The warnings of several deadlines in one transaction, each atomically with its
    deadline's deletion; for each, the history id or None (see :func:`warn`)."""
    with engine.begin() as conn:
        return [_warn(conn, d, at) for d in due]


def _warn(conn: Connection, d: Due, at: int) -> int | None:
    assert d.agent_id is not None
    assert d.status is not None
    if not deadline_plans.take(conn, d.id):
        return None
    agent = _agent_in_limit(conn, d)
    if agent is None or agent.action is not LimitAction.WARN:
        return None
    return append_event(
        conn,
        standing(
            org_id=d.org_id,
            agent_id=d.agent_id,
            user_id=agent.user_id,
            extension=agent.extension,
            status=d.status,
            at_ms=at,
            source=Source.SYSTEM.value,
            kind=OVERDUE_EVENT,
            policy=WARN_POLICY,
            due_ms=d.due_ms,
        ),
    )


def logged_in_at(engine: Engine, oid: int, due_ms: int) -> list[tuple[str, int]]:
    """The agents logged in since before ``due_ms`` (user id, presence version)."""
    return deadline_plans.logged_in_at(engine, oid, due_ms)


def shift_set(engine: Engine, oid: int) -> ShiftEnd | None:
    with reading(engine) as conn:
        return shift_of(conn, oid)


def plan_next_shift(engine: Engine, d: Due, at: int) -> int | None:
    """Replace a shift deadline that acted by the next one (after now: a shift end missed
    while every instance was down is acted on once, not once per missed day)."""
    with engine.begin() as conn:
        return replan_shift(conn, d.org_id, max(at, d.due_ms), timezone_of(conn, d.org_id))


class DeadlineRunner:
    def __init__(
        self,
        engine: Engine,
        changes: StatusChanges,
        announce: Announce,
        *,
        tick_seconds: float = TICK_SECONDS,
        claim_seconds: float = CLAIM_SECONDS,
    ) -> None:
        self.engine = engine
        self.changes = changes
        self.announce = announce
        self.tick = tick_seconds
        self.claim_ms = int(claim_seconds * 1000)
        self._task: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(CONCURRENT_CHANGES)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agentstatus deadlines")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            claimed: list[Due] = []
            claimed_at = now_ms()
            try:
                claimed = await asyncio.to_thread(claim_due, self.engine, claimed_at, self.claim_ms)
                if claimed:
                    await self.act(claimed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deadlines: a round failed; its claims lapse and are retried")
            if len(claimed) < BATCH:
                pause = await asyncio.to_thread(self._pause, claimed_at)
                if pause > 0:
                    await asyncio.sleep(pause)

    def _pause(self, claimed_at: int) -> float:
        """Until the next deadline is due, at most a tick: a wrap-up's end due in 40 ms is
        acted on then, not at the next tick. One that came due while this round acted is
        claimed at once (waiting ``MIN_PAUSE`` for it was most of a wrap-up's end to
        unpause: 500 agents' wrap-ups end 125 times a second); one due before this round
        claimed, and not claimed by it, was given back after a failure: it is looked at
        again after ``MIN_PAUSE``."""
        at = now_ms()
        due = deadline_plans.next_due(self.engine, at)
        if due is None:
            return self.tick
        if due > at:
            return min(self.tick, (due - at) / 1000)
        return 0.0 if due >= claimed_at else MIN_PAUSE

    async def act(self, claimed: list[Due]) -> None:
        limits = [d for d in claimed if d.kind not in (SHIFT, PHONE_DEADLINE, WRAP_UP_KIND)]
        current = await asyncio.to_thread(limit_actions, self.engine, limits) if limits else {}
        overtaken = [d.id for d in limits if d.id not in current]
        if overtaken:  # nothing to do: changed since, or the limit changed
            await asyncio.to_thread(finish_many, self.engine, overtaken)
        warnings = [
            d for d in limits if d.id in current and current[d.id].action is LimitAction.WARN
        ]
        await asyncio.gather(
            self._warn(warnings),
            *(
                self._limit_one(d, current[d.id])
                for d in limits
                if d.id in current and current[d.id].action is not LimitAction.WARN
            ),
            *(self._shift(d) for d in claimed if d.kind == SHIFT),
            *(self._phone(d) for d in claimed if d.kind == PHONE_DEADLINE),
            self._wrap_ups([d for d in claimed if d.kind == WRAP_UP_KIND]),
        )

    async def _phone(self, d: Due) -> None:
        """A phone offline too long (``service/phone_registration.py``)."""
        async with self._limit:
            done = await phone_registration.act(self.changes, self.engine, d)
        await asyncio.to_thread(finish if done else release, self.engine, d.id)

    async def _wrap_ups(self, due: list[Due]) -> None:
        if due:
            await wrap_up.deadlines_due(self.engine, self.changes, due, self._limit)

    async def _warn(self, due: list[Due]) -> None:
        """The warnings, a chunk a transaction, with a pause between chunks for the other
        writers (a limit set on a crowded status makes thousands due at once)."""
        took = 0.0
        for at in range(0, len(due), WARN_CHUNK):
            if at:
                await asyncio.sleep(max(WARN_PAUSE_SECONDS, 2 * took))
            chunk = due[at : at + WARN_CHUNK]
            started = time.monotonic()
            written = await asyncio.to_thread(warn_many, self.engine, chunk, now_ms())
            took = time.monotonic() - started
            for org in sorted({d.org_id for d, h in zip(chunk, written, strict=True) if h}):
                self.announce(org)

    async def _limit_one(self, d: Due, agent: AgentInLimit) -> None:
        async with self._limit:
            status = LOGIN if agent.action is LimitAction.LOGIN else LOGOUT
            command = StatusCommand(
                agent.user_id,
                agent.extension if status == LOGIN else None,
                status,
                Source.SYSTEM,
                org_id=d.org_id,
                expected_version=d.version,
                policy=f"limit:{agent.action.value}",
                due_ms=d.due_ms,
            )
            result = await self.changes.apply(command)
        if result.row is Row.UPDATE_FAILED:
            await asyncio.to_thread(release, self.engine, d.id)
        else:
            await asyncio.to_thread(finish, self.engine, d.id)

    async def _shift(self, d: Due) -> None:
        if await asyncio.to_thread(shift_set, self.engine, d.org_id) is None:
            await asyncio.to_thread(finish, self.engine, d.id)  # turned off meanwhile
            return
        agents_in = await asyncio.to_thread(logged_in_at, self.engine, d.org_id, d.due_ms)

        async def log_out(user_id: str, version: int) -> bool:
            async with self._limit:
                command = StatusCommand(
                    user_id,
                    None,
                    LOGOUT,
                    Source.SYSTEM,
                    org_id=d.org_id,
                    expected_version=version,
                    policy=SHIFT_POLICY,
                    due_ms=d.due_ms,
                )
                return (await self.changes.apply(command)).row is not Row.UPDATE_FAILED

        done = await asyncio.gather(*(log_out(u, v) for u, v in agents_in))
        if all(done):
            await asyncio.to_thread(plan_next_shift, self.engine, d, now_ms())
        else:
            await asyncio.to_thread(release, self.engine, d.id)  # the rest, next round
