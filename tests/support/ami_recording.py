"""What a real Asterisk sent, recorded (``tests/pbx/recordings/``: every AMI event a real
Asterisk, master of August 2026, sent while agentstatus managed its queue ``support``; the
configuration beside it, ``queues.conf`` and ``extensions.conf``), for tests to replay
through ``AmiServer.replay`` and to check the server's own events against.

Lines are numbered from 0 as in the file. Agents there are ``Local/p1@agents`` (Dana) and
``Local/p2@agents`` (Eli); :func:`rewrite` renames them to a test organisation's extensions
and gives the unique ids a fresh prefix, so a segment can be replayed more than once.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from functools import cache
from pathlib import Path

RECORDINGS = Path(__file__).resolve().parent.parent / "pbx" / "recordings"
MAIN = "asterisk-ami-recording.jsonl"
QUEUE = "asterisk-ami-queue-recording.jsonl"

# Segments of the main recording (first, last line), as its README tells them.
CALL_TO_P2 = (8, 70)
"""A caller (Local/100@incoming) queued in ``support`` and answered by Eli (p2): the
``;1``/``;2`` halves of ``Local/p2@agents-00000001``, AgentCalled/AgentConnect/AgentComplete."""
CALL_TO_P2_TALKING = 1796588510.0
"""A moment of that call when Eli is talking (the recording's ``t``)."""
CALL_RINGALL = (706, 789)
"""After the interface became ``…/n``: a call rung to p1 and p2 at once (ringall), answered by
p2; channels are still named without ``/n``."""

# Segments of the queue recording.
RING_NO_ANSWER = (6, 76)
"""A caller waits while Missy (``Local/p9@noanswer``) is rung three times and never answers
(``AgentCalled`` then ``AgentRingNoAnswer``, RingTime 3000), Eli paused for Lunch."""

_AGENT = re.compile(r"(?<![A-Za-z0-9])p([1-9])(?=@|$|;)")
_UNIQUEID = re.compile(r"\b1796\d{6}\.(\d+)\b")
_replays = itertools.count(1)


@cache
def load(name: str = MAIN) -> tuple[dict[str, str], ...]:
    """Every line of a recording, as recorded (with ``t``, ``banner`` and ``probe`` lines)."""
    with (RECORDINGS / name).open() as lines:
        return tuple(json.loads(line) for line in lines)


def events(name: str = MAIN) -> list[dict[str, str]]:
    """The recorded AMI messages that are events (no banner, probe or response lines)."""
    return [m for m in load(name) if "Event" in m]


def first(event: str, name: str = MAIN) -> dict[str, str]:
    """The first recorded event of a kind, without its arrival time."""
    found = next(m for m in events(name) if m["Event"] == event)
    return {k: v for k, v in found.items() if k != "t"}


def segment(lines: tuple[int, int], name: str = MAIN) -> list[dict[str, str]]:
    """The events of lines ``first..last`` (inclusive)."""
    start, end = lines
    return [m for m in load(name)[start : end + 1] if "Event" in m]


def until(messages: list[dict[str, str]], moment: float) -> list[dict[str, str]]:
    """The messages that had arrived by ``moment`` (the recording's ``t``)."""
    return [m for m in messages if float(m["t"]) < moment]


def rewrite(
    messages: list[dict[str, str]], agents: dict[str, str], *, drop: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """The messages without ``t``, with the agents renamed (``{"p2": "sip2"}`` turns
    ``Local/p2@agents-00000001;1`` into ``Local/sip2@agents-00000001;1`` and Exten ``p2``
    into ``sip2``) and unique ids made fresh; events named in ``drop`` are left out."""
    epoch = f"{int(time.time())}{next(_replays):03d}"

    def value(text: str) -> str:
        text = _AGENT.sub(lambda m: agents.get(f"p{m.group(1)}", m.group(0)), text)
        return _UNIQUEID.sub(lambda m: f"{epoch}.{m.group(1)}", text)

    return [
        {k: value(v) for k, v in m.items() if k != "t"}
        for m in messages
        if m.get("Event") not in drop
    ]
