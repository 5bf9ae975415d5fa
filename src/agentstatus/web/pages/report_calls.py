"""The report page's calls (SPEC 8): per agent over the page's days, the calls answered and
missed, talk, wrap-up, the other time taking calls, and occupancy, as a chart and a table;
the CSV (one row per agent and day) is the API's ``GET …/reports/calls?format=csv``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agentstatus.service.call_reports import CallsRow
from agentstatus.web.stacked_bars import chart

# The chart's pieces, in the order drawn (the template gives each its class and name).
TALK, WRAP_UP, READY = 0, 1, 2
OCCUPANCY_ROOM = 70.0
"""Room after the longest bar for the occupancy figure."""


@dataclass(frozen=True, slots=True)
class AgentCalls:
    """One agent's calls over the page's days."""

    user_id: str
    name: str
    answered: int = 0
    missed: int = 0
    talk_ms: int = 0
    wrap_up_ms: int = 0
    busy_ms: int = 0
    available_ms: int = 0

    @property
    def ready_ms(self) -> int:
        """Taking calls, neither talking nor in wrap-up."""
        return self.available_ms - self.busy_ms

    @property
    def occupancy(self) -> float | None:
        return self.busy_ms / self.available_ms if self.available_ms else None

    def plus(self, other: AgentCalls) -> AgentCalls:
        return AgentCalls(
            self.user_id,
            self.name,
            self.answered + other.answered,
            self.missed + other.missed,
            self.talk_ms + other.talk_ms,
            self.wrap_up_ms + other.wrap_up_ms,
            self.busy_ms + other.busy_ms,
            self.available_ms + other.available_ms,
        )


def per_agent(rows: Iterable[CallsRow]) -> list[AgentCalls]:
    """The days of each agent added up, in the report's order (by user id)."""
    found: dict[str, AgentCalls] = {}
    for r in rows:
        f = r.figures
        day = AgentCalls(
            r.user_id,
            r.name,
            f.answered,
            f.missed,
            f.talk_ms,
            f.wrap_up_ms,
            f.busy_ms,
            f.available_ms,
        )
        found[r.user_id] = found[r.user_id].plus(day) if r.user_id in found else day
    return list(found.values())


def calls_values(rows: list[CallsRow], shown: list[str], *, rtl: bool) -> dict[str, object]:
    """The template's ``calls`` (the agents of ``shown``, the page of agents the status
    table shows, that have calls figures), ``calls_total`` (everyone) and
    ``calls_chart``."""
    everyone = per_agent(rows)
    on_page = set(shown)
    agents = [a for a in everyone if a.user_id in on_page]
    total = AgentCalls("", "")
    for a in everyone:
        total = total.plus(a)
    bars = chart(
        [
            (
                a.name or a.user_id,
                [
                    (TALK, a.talk_ms / 1000),
                    (WRAP_UP, a.wrap_up_ms / 1000),
                    (READY, a.ready_ms / 1000),
                ],
            )
            for a in agents
        ],
        rtl=rtl,
        trailing=OCCUPANCY_ROOM,
    )
    return {"calls": agents, "calls_total": total, "calls_chart": bars}
