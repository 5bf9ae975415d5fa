"""Which ink reads on a status colour (the wall's tiles are filled with it): black or
white, whichever contrasts more by WCAG 2's relative luminance. Every #rrggbb colour has
one of the two at 4.58:1 or better (the worst case is a mid-tone near #4b7d87), so any
colour an administrator picks gets text at WCAG AA's 4.5:1."""

from __future__ import annotations

import re

BLACK = "#000000"
WHITE = "#ffffff"
AA_TEXT = 4.5
"""WCAG 2 AA's least contrast for body text."""
_HEX = re.compile(r"#([0-9a-fA-F]{6})")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of a ``#rrggbb`` colour (ValueError for anything else)."""
    found = _HEX.fullmatch(color)
    if found is None:
        raise ValueError(f"a colour is #rrggbb, not {color!r}")
    digits = found.group(1)
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    a, b = relative_luminance(first), relative_luminance(second)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def ink_for(color: str) -> str:
    """Black or white: the text colour that reads best on ``color``."""
    return BLACK if contrast_ratio(color, BLACK) >= contrast_ratio(color, WHITE) else WHITE
