"""Wrap-up (after-call work) and the status queued as next (SPEC 8), as pure rules: what an
organisation's setting may be, and what a call's end does to the agent it ended on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentstatus.wire.catalogue import AgentStatus

DEFAULT_STATUS = AgentStatus.SUMMARY.value
"""Voicenter's "Summary" status: the wrap-up status unless the organisation chooses another."""
MAX_SECONDS = 3600
"""The longest timed wrap-up (an hour of after-call work is a break, not a wrap-up)."""
WRAP_UP_KIND = "wrap-up"
"""The kind of a timed wrap-up's deadline (``deadlines.kind``)."""
WRAP_UP_POLICY = "wrap-up"
"""The history's policy of the change a timed wrap-up's deadline makes."""


class WrapUpMode(StrEnum):
    OFF = "off"
    TIMED = "timed"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class WrapUpSetting:
    mode: WrapUpMode = WrapUpMode.OFF
    seconds: int | None = None
    """Only for ``timed``."""
    status: int = DEFAULT_STATUS

    def as_json(self) -> dict[str, object]:
        return {"mode": self.mode.value, "seconds": self.seconds, "status": self.status}


def check_setting(mode: WrapUpMode, seconds: int | None) -> int | None:
    """The seconds to keep for ``mode``; ValueError saying what is wrong."""
    if mode is not WrapUpMode.TIMED:
        if seconds is not None:
            raise ValueError(f"seconds are for a timed wrap-up only, not {mode.value!r}")
        return None
    if seconds is None:
        raise ValueError("a timed wrap-up needs its seconds")
    if not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(f"a timed wrap-up lasts 1 to {MAX_SECONDS} seconds, not {seconds}")
    return seconds


class AfterCall(StrEnum):
    """What a call's end does to the agent at its extension."""

    NOTHING = "nothing"
    START_WRAP_UP = "start"
    RESTART_WRAP_UP = "restart"
    """A call ended during wrap-up: a timed one counts its seconds again."""
    APPLY_NEXT = "next"


@dataclass(frozen=True, slots=True)
class CallEnd:
    """The facts of one call's end, as the agent at its extension is now."""

    answered: bool
    answered_calls_left: int
    """Other answered calls still on the extension: the call is not over until they are."""
    takes_calls: bool
    """The agent's status takes calls (``statuses.available``)."""
    in_wrap_up: bool
    next_status: int | None


def after_call(setting: WrapUpSetting, end: CallEnd) -> AfterCall:
    """Wrap-up first (an answered call that ends while the agent takes calls); else the
    status queued as next, once no call and no wrap-up is left."""
    if end.answered_calls_left:
        return AfterCall.NOTHING
    if end.in_wrap_up:
        if end.answered and setting.mode is not WrapUpMode.OFF:
            return AfterCall.RESTART_WRAP_UP
        return AfterCall.NOTHING  # the next status waits for the wrap-up's end
    if end.answered and end.takes_calls and setting.mode is not WrapUpMode.OFF:
        return AfterCall.START_WRAP_UP
    if end.next_status is not None:
        return AfterCall.APPLY_NEXT
    return AfterCall.NOTHING
