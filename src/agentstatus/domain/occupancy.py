"""An agent's calls over one day, and its occupancy (SPEC 8), free of I/O.

The figures come from spans of time (``[start, end)`` in milliseconds):

- **stints**: the agent's time in each status, each marked when a wrap-up change began it;
- **talks**: each answered call from its answer to its end (hold included: the agent is
  still with the caller).

Occupancy is the time talking or in wrap-up over the time the agent could take calls:
``busy / available`` where *available* is the time in statuses that take calls, in wrap-up,
or talking (a call in a status that takes none still counts), each instant counted once, and
*busy* the time talking or in wrap-up, also once (a call during wrap-up is not counted
twice). With no available time it is None: nothing to divide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agentstatus.domain.catalogue import LOGOUT

Span = tuple[int, int]


def merged(spans: Iterable[Span]) -> list[Span]:
    """The spans' union as disjoint spans in order (empty ones dropped)."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clipped(spans: Iterable[Span], start: int, end: int) -> list[Span]:
    """The parts of ``spans`` within ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def total(spans: Iterable[Span]) -> int:
    return sum(e - s for s, e in spans)


@dataclass(frozen=True, slots=True)
class Stint:
    start: int
    end: int
    status: int
    wrap_up: bool
    """Begun by a wrap-up change (``agent.wrap_up_started``)."""


def stints_of(
    status: int, wrap_up: bool, changes: Sequence[tuple[int, int, bool]], begin: int, end: int
) -> list[Stint]:
    """The stints from ``begin`` to ``end`` of an agent in ``status`` at ``begin`` (entered
    by a wrap-up change when ``wrap_up``), with ``changes`` ``(new status, at, wrap-up)`` in
    order; a change before ``begin`` counts from ``begin``."""
    found: list[Stint] = []
    cursor = begin
    for new, at, into_wrap_up in changes:
        at = min(max(at, begin), end)
        if at > cursor:
            found.append(Stint(cursor, at, status, wrap_up))
        status, wrap_up, cursor = new, into_wrap_up, max(cursor, at)
    if end > cursor:
        found.append(Stint(cursor, end, status, wrap_up))
    return found


@dataclass(frozen=True, slots=True)
class CallsDay:
    """One agent's calls on one day (or the part of it in a report's range)."""

    day: date
    answered: int
    missed: int
    talk_ms: int
    wrap_up_ms: int
    busy_ms: int
    """Talking or in wrap-up, each instant once."""
    available_ms: int
    """In a status that takes calls, in wrap-up or talking, each instant once."""
    logged_in_ms: int
    """In any status but Logout."""

    @property
    def occupancy(self) -> float | None:
        return self.busy_ms / self.available_ms if self.available_ms else None


@dataclass(frozen=True, slots=True)
class AgentCalls:
    """What one agent did over a range: its stints, calls and missed calls."""

    stints: list[Stint]
    talks: list[Span]
    answered_at: list[int]
    missed_at: list[int]


def calls_day(
    agent: AgentCalls, takes_calls: frozenset[int], day: date, start: int, end: int
) -> CallsDay:
    """The agent's figures for ``day``, the instants ``[start, end)`` of it."""
    kinds = [s for s in agent.stints if s.end > start and s.start < end]
    wrap_up = merged(clipped(((s.start, s.end) for s in kinds if s.wrap_up), start, end))
    ready = clipped(
        ((s.start, s.end) for s in kinds if s.status in takes_calls and not s.wrap_up), start, end
    )
    talk = merged(clipped(agent.talks, start, end))
    return CallsDay(
        day,
        answered=sum(1 for at in agent.answered_at if start <= at < end),
        missed=sum(1 for at in agent.missed_at if start <= at < end),
        talk_ms=total(talk),
        wrap_up_ms=total(wrap_up),
        busy_ms=total(merged([*talk, *wrap_up])),
        available_ms=total(merged([*ready, *wrap_up, *talk])),
        logged_in_ms=total(
            clipped(((s.start, s.end) for s in kinds if s.status != LOGOUT), start, end)
        ),
    )


def zone_days(start: int, end: int, zone: ZoneInfo) -> list[tuple[date, int, int]]:
    """The days of ``zone`` that ``[start, end)`` touches, each with the part of it inside
    the range (a day is 23 or 25 hours when the clocks change)."""
    day = datetime.fromtimestamp(start / 1000, tz=zone).date()
    found: list[tuple[date, int, int]] = []
    while True:
        following = day + timedelta(days=1)
        begin = int(datetime.combine(day, time(0), tzinfo=zone).timestamp() * 1000)
        until = int(datetime.combine(following, time(0), tzinfo=zone).timestamp() * 1000)
        if begin >= end:
            return found
        if until > start:
            found.append((day, max(begin, start), min(until, end)))
        day = following
