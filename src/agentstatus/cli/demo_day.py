"""The demo's past: a believable working day for each demo agent (yesterday's, and today's
until now), so that the agent's day, the reports and replay have something to show.

Everything is written through the paths the service itself writes with: status changes
through :class:`~agentstatus.service.status_change.StatusChanges` (as the CRM's requests,
the agents' panels and the phone system's wrap-up make them), calls through the phone-system
store's :func:`~agentstatus.service.phone_calls.store_calls` (as a phone system reports them),
a call that rang out as an ``agent.missed_call`` appended to the event log, each with the
instant it happened. The plan is a function of the day and the agent (a seeded random), and
a day that already has history is left alone: running the demo again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson

from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.event_types import (
    MISSED_CALL_EVENT,
    WRAP_UP_ENDED_REASON,
    WRAP_UP_REASON,
)
from agentstatus.service.history import read_history
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.event_log import append_event, standing
from agentstatus.storage.phone_calls import agent_on_call
from agentstatus.storage.types import Engine
from agentstatus.wire.outcomes import Row

LUNCH, ADMINISTRATIVE, PRIVATE_BREAK, TRAINING, MEETING, WRAP_UP = 3, 5, 7, 11, 12, 13
MINUTE = 60_000
MISSED_EACH_DAY = 3
# The CRM's server, as the history records a SetStatusFromAPI (a documentation address).
CRM_ADDRESS = "198.51.100.20"
CALLERS = ("Ruth Katz", "Moshe Levy", "Tamar Ben-David", "Eli Shapiro", "Orit Golan")
# One longer activity each, besides the breaks everyone takes: (status, HH:MM, minutes).
SPECIAL = (
    (ADMINISTRATIVE, "14:30", 20),
    (TRAINING, "13:30", 60),
    (MEETING, "15:00", 30),
    (ADMINISTRATIVE, "11:00", 15),
    (TRAINING, "14:00", 45),
)


@dataclass(frozen=True, order=True)
class Step:
    """One thing that happened: a status change, or a call's event."""

    at_ms: int
    seq: int
    user_id: str = field(compare=False)
    status: int | None = field(default=None, compare=False)
    source: Source = field(default=Source.GET, compare=False)
    call: Changed | None = field(default=None, compare=False)
    reason: str | None = field(default=None, compare=False)
    missed: bool = field(default=False, compare=False)
    """A call offered to the agent rang out (an ``agent.missed_call``)."""


@dataclass
class Written:
    changes: int = 0
    call_events: int = 0
    missed_calls: int = 0
    days: list[date] = field(default_factory=list)


class _Planner:
    def __init__(self, day: date, zone: ZoneInfo) -> None:
        self.day = day
        self.zone = zone
        self.steps: list[Step] = []

    def at(self, hh_mm: str) -> int:
        hour, minute = (int(p) for p in hh_mm.split(":"))
        moment = datetime.combine(self.day, time(hour, minute), tzinfo=self.zone)
        return int(moment.timestamp() * 1000)

    def status(
        self, at_ms: int, user_id: str, status: int, source: Source, reason: str | None = None
    ) -> None:
        self.steps.append(Step(at_ms, len(self.steps), user_id, status, source, reason=reason))

    def missed(self, at_ms: int, user_id: str) -> None:
        self.steps.append(Step(at_ms, len(self.steps), user_id, missed=True))

    def call(self, at_ms: int, user_id: str, change: CallChange, call: Call) -> None:
        self.steps.append(Step(at_ms, len(self.steps), user_id, call=Changed(change, call)))


def _number(rng: random.Random) -> str:
    return f"05{rng.choice('0234578')}{rng.randint(1_000_000, 9_999_999)}"


def _agent_day(plan: _Planner, index: int, user_id: str, until_ms: int) -> None:
    rng = random.Random(f"{plan.day.isoformat()}:{user_id}")
    extension = f"sip{user_id}"
    login = plan.at("08:00") + index * 6 * MINUTE + rng.randint(0, 4 * MINUTE)
    logout = plan.at("16:30") + index * 7 * MINUTE + rng.randint(0, 5 * MINUTE)
    special, start, minutes = SPECIAL[index % len(SPECIAL)]
    away = sorted(
        [
            (plan.at("10:00") + index * 9 * MINUTE + rng.randint(0, 10 * MINUTE), 10, 15, 7),
            (plan.at("12:00") + index * 12 * MINUTE + rng.randint(0, 5 * MINUTE), 30, 40, 3),
            (plan.at(start), minutes, minutes, special),
            (plan.at("15:45") + index * 5 * MINUTE, 8, 12, 7),
        ]
    )
    # The day as segments in Login, between the times away; calls come in those.
    plan.status(login, user_id, LOGIN, Source.GET)
    free_from = login
    segments: list[tuple[int, int]] = []
    for begin, shortest, longest, status in away:
        end = begin + rng.randint(shortest, longest) * MINUTE
        segments.append((free_from, begin))
        source = Source.PANEL if status in (PRIVATE_BREAK, LUNCH) else Source.GET
        plan.status(begin, user_id, status, source)
        plan.status(end, user_id, LOGIN, source)
        free_from = end
    segments.append((free_from, logout))
    plan.status(logout, user_id, LOGOUT, Source.GET)

    number = 0
    for begin, end in segments:
        t = begin + rng.randint(1, 5) * MINUTE
        while True:
            ring = rng.randint(4_000, 20_000)
            talk = rng.randint(45_000, 420_000)
            wrap_up = rng.randint(45_000, 120_000) if rng.random() < 0.3 else 0
            if t + ring + talk + wrap_up + MINUTE > end:
                break
            number += 1
            if _call(plan, rng, user_id, extension, number, t, ring, talk, wrap_up, until_ms):
                t += ring + talk + wrap_up
            t += rng.randint(10, 35) * MINUTE


def _call(
    plan: _Planner,
    rng: random.Random,
    user_id: str,
    extension: str,
    number: int,
    t: int,
    ring: int,
    talk: int,
    wrap_up: int,
    until_ms: int,
) -> bool:
    """One call's events (and its wrap-up), when it ended before ``until_ms``."""
    if t + ring + talk + wrap_up >= until_ms:
        return False  # a call still going on would stay "live" with no phone system
    # The third call of each agent's day rings out, so every day has a missed call.
    outgoing = number != MISSED_EACH_DAY and rng.random() < 0.2
    missed = number == MISSED_EACH_DAY or (not outgoing and rng.random() < 0.1)
    call = Call(
        id=f"demo-{plan.day.isoformat()}-{user_id}-{number}",
        extension=extension,
        direction=Direction.OUT if outgoing else Direction.IN,
        state=CallState.DIALING if outgoing else CallState.RINGING,
        caller_name="" if outgoing or rng.random() < 0.5 else rng.choice(CALLERS),
        caller_number="" if outgoing else _number(rng),
        dialled=_number(rng) if outgoing else extension.removeprefix("sip"),
        started_ms=t,
    )
    plan.call(t, user_id, CallChange.STARTED, call)
    if missed:
        plan.missed(t + ring + 10_000, user_id)
        plan.call(t + ring + 10_000, user_id, CallChange.ENDED, call)
        return False
    answered = t + ring
    call = replace(call, state=CallState.TALKING, answered_ms=answered)
    plan.call(answered, user_id, CallChange.ANSWERED, call)
    if rng.random() < 0.15:
        held = answered + talk // 3
        plan.call(held, user_id, CallChange.HELD, replace(call, state=CallState.HOLD))
        plan.call(held + rng.randint(20_000, 60_000), user_id, CallChange.RESUMED, call)
    end = answered + talk
    plan.call(end, user_id, CallChange.ENDED, call)
    if wrap_up:
        # As the phone system's wrap-up makes them (SPEC 8): in on the hang-up, out timed.
        plan.status(end + 500, user_id, WRAP_UP, Source.PBX, WRAP_UP_REASON)
        plan.status(end + wrap_up, user_id, LOGIN, Source.SYSTEM, WRAP_UP_ENDED_REASON)
    return True


def _missed_call(engine: Engine, org_id: int, step: Step) -> int:
    """The ``agent.missed_call`` of a call that rang out at the agent's extension (1), as
    the phone system's missed-call rule records it; 0 when the agent was not there."""
    with engine.begin() as conn:
        agent = agent_on_call(conn, org_id, f"sip{step.user_id}")
        if agent is None:
            return 0
        extension = f"sip{step.user_id}"
        append_event(
            conn,
            standing(
                org_id=org_id,
                agent_id=agent.agent_id,
                user_id=agent.user_id,
                extension=extension,
                status=agent.status,
                at_ms=step.at_ms,
                source=Source.PBX.value,
                kind=MISSED_CALL_EVENT,
                detail=orjson.dumps({"count": 1}).decode(),
            ),
        )
    return 1


def plan_day(day: date, zone: ZoneInfo, user_ids: Sequence[str], until_ms: int) -> list[Step]:
    """What the agents did on ``day`` (in ``zone``) before ``until_ms``, in order."""
    plan = _Planner(day, zone)
    for index, user_id in enumerate(user_ids):
        _agent_day(plan, index, user_id, until_ms)
    return sorted(s for s in plan.steps if s.at_ms < until_ms)


def demo_days(now_ms: int, zone: ZoneInfo) -> tuple[date, date]:
    """Yesterday and today, in the organisation's time zone."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=zone).date()
    return today - timedelta(days=1), today


def day_start_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp() * 1000)


def has_history(engine: Engine, org: str, day: date, zone: ZoneInfo) -> bool:
    start = day_start_ms(day, zone)
    end = day_start_ms(day + timedelta(days=1), zone)
    return bool(read_history(engine, org, start_ms=start, end_ms=end, limit=1).events)


async def write_days(
    changes: StatusChanges,
    engine: Engine,
    org: str,
    org_id: int,
    user_ids: Sequence[str],
    zone: ZoneInfo,
    now_ms: int,
) -> Written:
    """Yesterday's day and today's until now, each unless it already has history."""
    written = Written()
    for day in demo_days(now_ms, zone):
        if has_history(engine, org, day, zone):
            continue
        steps = plan_day(day, zone, user_ids, now_ms)
        for step in steps:
            if step.missed:
                written.missed_calls += _missed_call(engine, org_id, step)
                continue
            if step.call is not None:
                if store_calls(engine, org_id, [step.call], at_ms=step.at_ms):
                    written.call_events += 1
                continue
            assert step.status is not None
            command = StatusCommand(
                step.user_id,
                None if step.status == LOGOUT else f"sip{step.user_id}",
                step.status,
                step.source,
                client_addr=CRM_ADDRESS if step.source is Source.GET else None,
                org_id=org_id,
                at_ms=step.at_ms,
                reason=step.reason,
            )
            result = await changes.apply(command)
            if result.row is Row.OK and result.change is not None:
                written.changes += 1
        if steps:
            written.days.append(day)
    return written
