"""The benchmark's chart, as a hand-written SVG (no plotting library): throughput and p99
latency of agentstatus against the references, one row per target, with the targets of
issue 5 marked on agentstatus's rows."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

LABEL_W = 270
PANEL_W = 300
GAP = 90
WIDTH = LABEL_W + 2 * PANEL_W + GAP + 50
ROW_H = 26
TOP = 84
COLOURS = {"reference": "#9aa5b1", "agentstatus": "#2e86de"}


@dataclass(frozen=True)
class Bar:
    label: str
    rps: float
    p99_ms: float
    kind: str  # "reference" or "agentstatus"
    rps_target: float | None = None
    p99_target: float | None = None
    rps_range: tuple[float, float] | None = None  # the slowest and fastest run


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _panel(
    bars: list[Bar],
    x0: float,
    title: str,
    value: str,
    target: str,
    unit: str,
    rows_bottom: float,
) -> list[str]:
    values = [getattr(b, value) for b in bars]
    targets = [getattr(b, target) for b in bars if getattr(b, target) is not None]
    top = _nice_max(max([*values, *targets]) * 1.15)
    scale = PANEL_W / top
    out = [
        f'<text x="{x0}" y="{TOP - 16}" class="title">{escape(title)}</text>',
        f'<line x1="{x0}" y1="{TOP - 6}" x2="{x0}" y2="{rows_bottom}" class="axis"/>',
    ]
    for i in range(5):
        tick = top * i / 4
        x = x0 + tick * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{rows_bottom}" class="grid"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{rows_bottom + 16}" class="tick">{tick:,.0f}{unit}</text>'
        )
    for row, bar in enumerate(bars):
        y = TOP + row * ROW_H
        v = getattr(bar, value)
        w = max(v * scale, 1)
        out.append(
            f'<rect x="{x0}" y="{y:.1f}" width="{w:.1f}" height="{ROW_H - 8}" '
            f'fill="{COLOURS[bar.kind]}"/>'
        )
        label_x = x0 + w + 4
        spread = bar.rps_range if value == "rps" else None
        if spread is not None:
            lo, hi = (x0 + v * scale for v in spread)
            mid = y + (ROW_H - 8) / 2
            out.append(
                f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" class="spread"/>'
            )
            label_x = max(label_x, hi + 4)
        shown = f"{v:,.0f}" if value == "rps" else f"{v:,.1f}"
        out.append(f'<text x="{label_x:.1f}" y="{y + ROW_H - 12:.1f}" class="value">{shown}</text>')
        t = getattr(bar, target)
        if t is not None:
            tx = x0 + t * scale
            out.append(
                f'<line x1="{tx:.1f}" y1="{y - 3:.1f}" x2="{tx:.1f}" y2="{y + ROW_H - 5:.1f}" '
                'class="target"/>'
            )
    return out


def render(bars: list[Bar], subtitle: str) -> str:
    rows_bottom = TOP + len(bars) * ROW_H
    height = rows_bottom + 70
    left = LABEL_W
    right = LABEL_W + PANEL_W + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
        "<style>"
        ".title{font-size:14px;font-weight:bold}.label{font-size:12px}"
        ".value{font-size:11px;fill:#333}.tick{font-size:10px;fill:#666;text-anchor:middle}"
        ".axis{stroke:#333}.grid{stroke:#ddd}.note{font-size:11px;fill:#555}"
        ".target{stroke:#c0392b;stroke-width:2;stroke-dasharray:3,2}"
        ".spread{stroke:#222;stroke-width:1.5}"
        "</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        '<text x="10" y="20" class="title">agentstatus SetStatusFromAPI benchmark'
        " (median of repeated runs)</text>",
        f'<text x="10" y="40" class="note">{escape(subtitle)}</text>',
    ]
    for row, bar in enumerate(bars):
        y = TOP + row * ROW_H + ROW_H - 12
        weight = ' font-weight="bold"' if bar.kind == "agentstatus" else ""
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y}" class="label" text-anchor="end"{weight}>'
            f"{escape(bar.label)}</text>"
        )
    parts += _panel(
        bars,
        left,
        "Throughput, requests/s (higher is better)",
        "rps",
        "rps_target",
        "",
        rows_bottom,
    )
    parts += _panel(
        bars, right, "p99 latency, ms (lower is better)", "p99_ms", "p99_target", "", rows_bottom
    )
    parts.append(
        f'<line x1="10" y1="{rows_bottom + 38}" x2="24" y2="{rows_bottom + 38}" class="target"/>'
        f'<text x="30" y="{rows_bottom + 42}" class="note">issue 5 target for that row'
        " (throughput at least, p99 at most)</text>"
        f'<line x1="400" y1="{rows_bottom + 38}" x2="420" y2="{rows_bottom + 38}" class="spread"/>'
        f'<text x="426" y="{rows_bottom + 42}" class="note">slowest to fastest run</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(path: Path, bars: list[Bar], subtitle: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(bars, subtitle))
