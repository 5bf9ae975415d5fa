"""Durations as people write them on a command line: ``90s``, ``15m``, ``12h``, ``7d`` or a
plain number of seconds; also combined, ``1h30m``."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"([0-9]{1,9})([smhd])")
WRITTEN = "a duration such as 90s, 15m, 12h, 7d or 1h30m (or whole seconds)"


def parse_duration(text: str) -> int:
    """Whole seconds; ValueError (saying what is expected) for anything else."""
    cleaned = text.strip().lower()
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 9:
        return int(cleaned)
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"expected {WRITTEN}, not {text!r}")
    units = [u for _, u in parts]
    if len(set(units)) != len(units):
        raise ValueError(f"expected {WRITTEN}, not {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def written(seconds: int) -> str:
    """``seconds`` the way :func:`parse_duration` reads it back, largest units first."""
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
