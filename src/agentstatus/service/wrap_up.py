"""Wrap-up (after-call work, SPEC 8): the organisation's setting, what a call's end does to
the agent it ended on, and the end of a wrap-up (its deadline, or the agent's Ready).

A call's end is decided by ``domain.wrap_up.after_call``. Entering wrap-up plans the
wrap-up (and a timed one's deadline, and carries the queued next status) *before* the
change, for the version the change will make, so a crash between the two loses nothing;
the change is made with ``expected_version`` and, refused, the plan is dropped again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from agentstatus.domain.calls import Call, CallChange, Changed
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand, StatusResult
from agentstatus.domain.event_types import (
    NEXT_STATUS_REASON,
    WRAP_UP_ENDED_REASON,
    WRAP_UP_REASON,
)
from agentstatus.domain.wrap_up import (
    DEFAULT_STATUS,
    WRAP_UP_POLICY,
    AfterCall,
    CallEnd,
    WrapUpMode,
    WrapUpSetting,
    after_call,
    check_setting,
)
from agentstatus.service import phone_calls, validation
from agentstatus.service.errors import InvalidInput
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import deadline_plans
from agentstatus.storage import wrap_up as store
from agentstatus.storage.database import reading
from agentstatus.storage.deadline_plans import Due
from agentstatus.storage.types import Connection, Engine
from agentstatus.storage.wrap_up import AgentNow, NextStatus, StatusFacts, WrapUp
from agentstatus.wire.outcomes import Row

log = logging.getLogger(__name__)

# -- the setting


def get_wrap_up(engine: Engine, org: str) -> WrapUpSetting:
    with reading(engine) as conn:
        return store.setting_of(conn, org_id(conn, org))


def set_wrap_up(
    engine: Engine, org: str, mode: WrapUpMode, seconds: int | None, status: int | None
) -> WrapUpSetting:
    """Set the organisation's wrap-up. The status must be one of its enabled statuses that
    takes no calls (and not Logout): an agent in wrap-up gets no call. Turning it off
    without naming a status keeps the one set (unchecked: off always works)."""
    try:
        kept = check_setting(mode, seconds)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with engine.begin() as conn:
        oid = org_id(conn, org)
        if mode is WrapUpMode.OFF and status is None:
            setting = WrapUpSetting(mode, None, store.setting_of(conn, oid).status)
        else:
            sid = validation.status_id(DEFAULT_STATUS if status is None else status)
            _check_status(store.status_facts(conn, oid, sid), org, sid)
            setting = WrapUpSetting(mode, kept, sid)
        store.save_setting(conn, oid, setting)
    return setting


def _check_status(facts: StatusFacts | None, org: str, sid: int) -> None:
    if facts is None:
        raise InvalidInput(f"the wrap-up status {sid} is not one of {org}'s statuses")
    if facts.enabled and not facts.available and sid != LOGOUT:
        return
    what = (
        "Logout"
        if sid == LOGOUT
        else "disabled"
        if not facts.enabled
        else "a status that takes calls"
    )
    raise InvalidInput(
        "the wrap-up status must be an enabled status that takes no calls "
        f"(not Logout); {sid} is {what}"
    )


# -- a call's end


@dataclass(frozen=True, slots=True)
class _Facts:
    setting: WrapUpSetting
    agent: AgentNow
    wrap: WrapUp | None
    next: NextStatus | None
    end: CallEnd


def _facts(conn: Connection, oid: int, call: Call) -> _Facts | None:
    agent = store.agent_at(conn, oid, call.extension)
    if agent is None:
        return None
    setting = store.setting_of(conn, oid)
    wrap = store.wrap_up_of(conn, agent.agent_id, agent.version)
    nxt = store.next_of(conn, agent.agent_id, agent.version)
    end = CallEnd(
        answered=call.answered_ms is not None,
        answered_calls_left=store.calls_at(conn, oid, call.extension, answered=True),
        takes_calls=agent.takes_calls,
        in_wrap_up=wrap is not None,
        next_status=None if nxt is None else nxt.status,
    )
    return _Facts(setting, agent, wrap, nxt, end)


@dataclass(frozen=True, slots=True)
class _Decided:
    facts: _Facts
    step: AfterCall
    wrap: WrapUp | None
    """The wrap-up planned for the version the change into it will make."""


def _decide(conn: Connection, oid: int, call: Call) -> _Decided | None:
    """The facts, what the call's end does, and a wrap-up's plan, in the caller's
    transaction."""
    facts = _facts(conn, oid, call)
    if facts is None:
        return None
    step = after_call(facts.setting, facts.end)
    agent, at = facts.agent, now_ms()
    wrap = None
    if step is AfterCall.START_WRAP_UP:
        # The change into wrap-up moves presence to the next version: planned for it.
        wrap = WrapUp(agent.version + 1, agent.status, at, _due(facts.setting, at))
        store.plan_wrap_up(conn, oid, agent.agent_id, wrap, facts.setting.status)
        store.carry_next(conn, agent.agent_id, agent.version, wrap.version)
    elif step is AfterCall.RESTART_WRAP_UP:
        _restart(conn, oid, facts, at)
    return _Decided(facts, step, wrap)


def _decide_all(engine: Engine, oid: int, calls: list[Call]) -> list[_Decided | None]:
    """The decisions of calls on different extensions, in one transaction: a transaction
    each made every hang-up of a busy minute queue for SQLite's write lock (its busy
    handler sleeps up to 100 ms between tries), and hang-up to pause p99 was 1.5 s."""
    with engine.begin() as conn:
        return [_decide_one(conn, oid, call) for call in calls]


def _decide_one(conn: Connection, oid: int, call: Call) -> _Decided | None:
    """One call's decision; a failing one is logged and leaves the others theirs (the
    savepoint undoes only its own writes)."""
    try:
        with conn.begin_nested():
            return _decide(conn, oid, call)
    except Exception:
        log.exception("wrap-up after call %s of organisation %d failed", call.id, oid)
        return None


async def calls_ended(
    engine: Engine, changes: StatusChanges, oid: int, changed: list[Changed]
) -> None:
    """What the calls that ended (their rows already gone) do to their agents: each
    extension's in order, different extensions at once (their decisions share a
    transaction, their changes share commits)."""
    await _rounds(engine, changes, oid, _ended_by_extension(changed), 0)


async def calls_changed(
    engine: Engine,
    changes: StatusChanges,
    oid: int,
    changed: list[Changed],
    announce: Callable[[int], None],
) -> None:
    """Keep the calls and write their events (``service/phone_calls.py``), then what the
    ended ones do (:func:`calls_ended`); the first decisions in the calls' transaction:
    the link following a busy phone system spent all its time in two transactions a
    batch, and a hang-up waited for the batches before it."""
    by_extension = _ended_by_extension(changed)
    first = [calls[0] for calls in by_extension.values()]

    def store_and_decide() -> tuple[bool, list[_Decided | None]]:
        with engine.begin() as conn:
            wrote = phone_calls.keep_calls(conn, oid, changed, now_ms())
            return wrote, [_decide_one(conn, oid, call) for call in first]

    wrote, decided = await asyncio.to_thread(store_and_decide)
    if wrote:
        announce(oid)
    await asyncio.gather(*(_act(engine, changes, oid, d) for d in decided if d is not None))
    await _rounds(engine, changes, oid, by_extension, 1)


def _ended_by_extension(changed: list[Changed]) -> dict[str, list[Call]]:
    by_extension: dict[str, list[Call]] = {}
    for c in changed:
        if c.change is CallChange.ENDED:
            by_extension.setdefault(c.call.extension, []).append(c.call)
    return by_extension


async def _rounds(
    engine: Engine,
    changes: StatusChanges,
    oid: int,
    by_extension: dict[str, list[Call]],
    start: int,
) -> None:
    rounds = max((len(calls) for calls in by_extension.values()), default=0)
    for n in range(start, rounds):  # the n-th call of each extension, after its (n-1)-th
        calls = [calls[n] for calls in by_extension.values() if len(calls) > n]
        decided = await asyncio.to_thread(_decide_all, engine, oid, calls)
        await asyncio.gather(*(_act(engine, changes, oid, d) for d in decided if d is not None))


async def _act(engine: Engine, changes: StatusChanges, oid: int, decided: _Decided) -> None:
    """The change a call's end decided on."""
    facts = decided.facts
    try:
        if decided.wrap is not None:
            await _start(engine, changes, oid, facts, decided.wrap)
        elif decided.step is AfterCall.APPLY_NEXT:
            assert facts.next is not None
            await _apply_next(changes, oid, facts.agent, facts.next)
    except Exception:
        # The call's end is recorded; a wrap-up that could not be started is logged,
        # not allowed to stop the link that follows the phone system.
        log.exception("wrap-up of organisation %d failed", oid)


def _due(setting: WrapUpSetting, at: int) -> int | None:
    if setting.mode is WrapUpMode.TIMED and setting.seconds is not None:
        return at + setting.seconds * 1000
    return None


def _unplan(engine: Engine, facts: _Facts, wrap: WrapUp) -> None:
    agent = facts.agent
    with engine.begin() as conn:
        store.drop_wrap_up(conn, agent.agent_id, wrap.version)
        store.carry_next(conn, agent.agent_id, wrap.version, agent.version)


async def _start(
    engine: Engine, changes: StatusChanges, oid: int, facts: _Facts, wrap: WrapUp
) -> None:
    agent = facts.agent
    result = await changes.apply(
        StatusCommand(
            agent.user_id,
            agent.extension,
            facts.setting.status,
            Source.PBX,
            org_id=oid,
            expected_version=agent.version,
            reason=WRAP_UP_REASON,
        )
    )
    if result.change is None:  # changed meanwhile, or the status refused: no wrap-up
        await asyncio.to_thread(_unplan, engine, facts, wrap)


def _restart(conn: Connection, oid: int, facts: _Facts, at: int) -> None:
    """A call ended during wrap-up: a timed one starts counting again."""
    assert facts.wrap is not None
    due = _due(facts.setting, at)
    if due is None:
        return
    wrap = WrapUp(facts.wrap.version, facts.wrap.return_status, facts.wrap.started_ms, due)
    store.plan_wrap_up(conn, oid, facts.agent.agent_id, wrap, facts.setting.status)


async def _apply_next(
    changes: StatusChanges,
    oid: int,
    agent: AgentNow,
    nxt: NextStatus,
    *,
    policy: str | None = None,
    due_ms: int | None = None,
) -> StatusResult:
    return await changes.apply(
        StatusCommand(
            agent.user_id,
            None if nxt.status == LOGOUT else agent.extension,
            nxt.status,
            Source(nxt.source),
            org_id=oid,
            expected_version=agent.version,
            policy=policy,
            due_ms=due_ms,
            reason=NEXT_STATUS_REASON,
            actor=nxt.actor,
        )
    )


# -- a wrap-up's end


@dataclass(frozen=True, slots=True)
class InWrapUp:
    agent: AgentNow
    wrap: WrapUp
    next: NextStatus | None


def in_wrap_up(engine: Engine, oid: int, user_id: str) -> InWrapUp | None:
    """The agent's wrap-up, if it is in one."""
    with reading(engine) as conn:
        agent = store.agent_of(conn, oid, user_id)
        if agent is None:
            return None
        wrap = store.wrap_up_of(conn, agent.agent_id, agent.version)
        if wrap is None:
            return None
        return InWrapUp(agent, wrap, store.next_of(conn, agent.agent_id, agent.version))


async def end_wrap_up(
    changes: StatusChanges,
    oid: int,
    found: InWrapUp,
    source: Source,
    *,
    due_ms: int | None = None,
) -> StatusResult:
    """Out of wrap-up: to the status queued as next, else back to the status held before
    the call; only if the agent is still in this wrap-up (``expected_version``)."""
    agent = found.agent
    policy = None if due_ms is None else WRAP_UP_POLICY
    if found.next is not None:
        return await _apply_next(changes, oid, agent, found.next, policy=policy, due_ms=due_ms)
    back = found.wrap.return_status
    return await changes.apply(
        StatusCommand(
            agent.user_id,
            None if back == LOGOUT else agent.extension,
            back,
            source,
            org_id=oid,
            expected_version=agent.version,
            policy=policy,
            due_ms=due_ms,
            reason=WRAP_UP_ENDED_REASON,
        )
    )


def _due_wrap_up(conn: Connection, d: Due) -> InWrapUp | None:
    """The wrap-up a deadline was planned for, if the agent is still in it and the
    deadline is its current one (a call ending meanwhile planned a later one)."""
    assert d.agent_id is not None
    agent = store.agent_by_id(conn, d.agent_id)
    if agent is None or agent.version != d.version:
        return None
    wrap = store.wrap_up_of(conn, agent.agent_id, agent.version)
    if wrap is None or wrap.due_ms != d.due_ms:
        return None
    return InWrapUp(agent, wrap, store.next_of(conn, agent.agent_id, agent.version))


def _due_wrap_ups(engine: Engine, due: list[Due]) -> list[InWrapUp | None]:
    with reading(engine) as conn:
        return [_due_wrap_up(conn, d) for d in due]


async def deadlines_due(
    engine: Engine, changes: StatusChanges, due: list[Due], limit: asyncio.Semaphore
) -> None:
    """Act on timed wrap-ups' deadlines, then delete them (given back to be tried again
    when the database did not take the change). One read and one write for all of them,
    not one each: the deadlines of a busy second share them (``limit``: the changes at
    once)."""
    found = await asyncio.to_thread(_due_wrap_ups, engine, due)

    async def end(d: Due, wrap: InWrapUp | None) -> bool:
        if wrap is None:  # overtaken: a change since, or restarted by another call
            return True
        async with limit:
            result = await end_wrap_up(changes, d.org_id, wrap, Source.SYSTEM, due_ms=d.due_ms)
        return result.row is not Row.UPDATE_FAILED

    done = await asyncio.gather(*(end(d, w) for d, w in zip(due, found, strict=True)))
    failed = [d.id for d, ok in zip(due, done, strict=True) if not ok]
    await asyncio.to_thread(_finish, engine, [d for d, ok in zip(due, done, strict=True) if ok])
    for deadline_id in failed:
        await asyncio.to_thread(deadline_plans.release, engine, deadline_id)


def _finish(engine: Engine, due: list[Due]) -> None:
    if not due:
        return
    with engine.begin() as conn:
        for d in due:
            store.finish_deadline(conn, d.id, d.due_ms)
