"""What each agent should be at the phone system, from agentstatus's presence (pure).

A **seat** is where an agent appears in the phone system: on Asterisk a queue member's
interface (one per extension: ``PJSIP/{extension}``), on FreeSWITCH a mod_callcenter agent
(one per agent: ``{user_id}``). Its state follows the agent's status:

- Login, or a status that takes calls: **taking** (a member of every queue, unpaused;
  FreeSWITCH: Available, with its tiers);
- a status that takes no calls: **paused** (Asterisk: paused with the status's name as the
  reason; FreeSWITCH: On Break);
- Logout, or nobody at the extension: **out** (removed from every queue; Logged Out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.pbx_config import PbxConfig, PbxKind, fill

OTHER = 9
"""The status a pause at the phone takes when its reason names no status."""


class SeatState(StrEnum):
    TAKING = "taking"
    PAUSED = "paused"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Seat:
    key: str
    """The interface (Asterisk) or agent name (FreeSWITCH)."""
    state: SeatState
    reason: str = ""
    """The status's name, when paused."""
    member_name: str = ""
    extension: str = ""
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class Seated:
    """One agent's presence, as the seats need it."""

    user_id: str
    name: str
    extension: str | None
    status: int
    status_name: str
    available: bool


def _state(agent: Seated) -> SeatState:
    if agent.status == LOGOUT or agent.extension is None:
        return SeatState.OUT
    return SeatState.TAKING if agent.available else SeatState.PAUSED


def seat_of(config: PbxConfig, agent: Seated) -> Seat:
    state = _state(agent)
    extension = agent.extension or ""
    key = (
        fill(config.interface, extension=extension, user_id=agent.user_id)
        if config.kind is PbxKind.ASTERISK
        else fill(config.agent, extension=extension, user_id=agent.user_id)
    )
    return Seat(
        key,
        state,
        agent.status_name if state is SeatState.PAUSED else "",
        agent.name or agent.user_id,
        extension,
        agent.user_id,
    )


def desired_seats(
    config: PbxConfig, extensions: Iterable[str], agents: Iterable[Seated]
) -> dict[str, Seat]:
    """Every seat of the organisation. Asterisk: one per extension (out when nobody is
    logged in there); FreeSWITCH: one per agent."""
    seats: dict[str, Seat] = {}
    if config.kind is PbxKind.ASTERISK:
        for sip in extensions:
            key = fill(config.interface, extension=sip)
            seats[key] = Seat(key, SeatState.OUT, extension=sip)
        for agent in agents:
            if agent.extension is not None and agent.status != LOGOUT:
                seat = seat_of(config, agent)
                seats[seat.key] = seat
        return seats
    for agent in agents:
        seat = seat_of(config, agent)
        seats[seat.key] = seat
    return seats


_LOCAL_OPTIONS = re.compile(r"^(Local/[^/]+)/[A-Za-z]*$", re.IGNORECASE)


def channel_template(template: str) -> str:
    """The interface as its channels are named: a Local interface's options (``/n``,
    FreePBX's usual ``Local/{extension}@from-queue/n``) are not part of a channel's name."""
    return _LOCAL_OPTIONS.sub(r"\1", template)


def template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching what ``template`` makes, capturing its fields."""
    parts = re.split(r"\{(extension|user_id)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(f"^{pattern}$")


def status_for_pause(
    paused: bool, reason: str, current: int, current_available: bool, names: dict[str, int]
) -> int | None:
    """The status a pause or unpause made at the phone means, or None when it means no
    change: an unpause while the agent takes calls, a pause while it takes none and the
    reason names no other status (the phone echoing what agentstatus asked for)."""
    if current == LOGOUT:
        return None
    if not paused:
        return None if current_available else LOGIN
    named = names.get(reason.strip().casefold()) if reason.strip() else None
    if named is not None:
        return None if named == current else named
    return None if not current_available else OTHER
