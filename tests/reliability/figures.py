"""Sizes of the reliability runs, and the figures they report.

``make test`` runs every reliability test small; ``make soak`` sets ``AGENTSTATUS_SOAK=1``
and the same tests run large. Each test records what it actually ran (examples, steps,
cases, kills…) as a line on stdout and a JSON file in ``FIGURES_DIR``, which the soak
target prints at the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SOAK = os.environ.get("AGENTSTATUS_SOAK", "") not in ("", "0")
FIGURES_DIR = Path(os.environ.get("AGENTSTATUS_FIGURES_DIR", "/tmp/agentstatus-reliability"))


def size(name: str, normal: int, soak: int) -> int:
    """``AGENTSTATUS_<NAME>`` when set, else the soak or the normal size."""
    override = os.environ.get(f"AGENTSTATUS_{name.upper()}")
    if override:
        return int(override)
    return soak if SOAK else normal


def record(name: str, **figures: object) -> None:
    """Print the figures of one run and keep them as ``FIGURES_DIR/<name>.json``."""
    shown = " ".join(f"{key}={value}" for key, value in figures.items())
    print(f"\n[reliability] {name}: {shown}")
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"name": name, "soak": SOAK, **figures}
    (FIGURES_DIR / f"{name}.json").write_text(json.dumps(payload, sort_keys=True) + "\n")
