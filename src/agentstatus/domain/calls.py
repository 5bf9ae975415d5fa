"""Live calls from a phone system's channel events (pure: the adapters translate their
protocol's events into these operations, the link stores what changed).

A call here is one extension's leg: its id is the phone system's unique id of that channel,
so two extensions in one call (a transfer, a conference) are two calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from agentstatus.domain.clock import to_iso


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class CallState(StrEnum):
    RINGING = "Ringing"
    DIALING = "Dialing"
    TALKING = "Talking"
    HOLD = "Hold"


class CallChange(StrEnum):
    """What a call event says happened; the stream's event types are ``call.<value>``."""

    STARTED = "started"
    ANSWERED = "answered"
    HELD = "held"
    RESUMED = "resumed"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Call:
    id: str
    extension: str
    direction: Direction
    state: CallState
    caller_name: str
    caller_number: str
    dialled: str
    started_ms: int
    answered_ms: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "extension": self.extension,
            "direction": self.direction.value,
            "state": self.state.value,
            "caller_name": self.caller_name,
            "caller_number": self.caller_number,
            "dialled": self.dialled,
            "started": to_iso(self.started_ms),
            "answered": None if self.answered_ms is None else to_iso(self.answered_ms),
        }


@dataclass(frozen=True, slots=True)
class Changed:
    change: CallChange
    call: Call


class CallBook:
    """The live calls of one connection, by id."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}

    def start(self, call: Call) -> Changed | None:
        if call.id in self.calls:
            return None
        self.calls[call.id] = call
        return Changed(CallChange.STARTED, call)

    def update(
        self, call_id: str, *, caller_name: str = "", caller_number: str = "", dialled: str = ""
    ) -> None:
        """Caller or dialled details learnt after the start (no event of its own)."""
        call = self.calls.get(call_id)
        if call is not None:
            self.calls[call_id] = replace(
                call,
                caller_name=caller_name or call.caller_name,
                caller_number=caller_number or call.caller_number,
                dialled=dialled or call.dialled,
            )

    def answer(self, call_id: str, at_ms: int) -> Changed | None:
        call = self.calls.get(call_id)
        if call is None or call.answered_ms is not None:
            return None
        call = replace(call, state=CallState.TALKING, answered_ms=at_ms)
        self.calls[call_id] = call
        return Changed(CallChange.ANSWERED, call)

    def hold(self, call_id: str, held: bool) -> Changed | None:
        call = self.calls.get(call_id)
        if call is None or call.answered_ms is None or (call.state is CallState.HOLD) == held:
            return None
        call = replace(call, state=CallState.HOLD if held else CallState.TALKING)
        self.calls[call_id] = call
        return Changed(CallChange.HELD if held else CallChange.RESUMED, call)

    def end(self, call_id: str) -> Changed | None:
        call = self.calls.pop(call_id, None)
        return None if call is None else Changed(CallChange.ENDED, call)

    def end_all(self) -> list[Changed]:
        """The connection is gone: its calls can no longer be followed."""
        ended = [Changed(CallChange.ENDED, c) for c in self.calls.values()]
        self.calls.clear()
        return ended
