"""Durations and shares as the report pages print them, in the page's language."""

from __future__ import annotations

from collections.abc import Callable

from babel.numbers import format_percent

from agentstatus.web.timeline import clock


def figures(code: str) -> dict[str, Callable[[float], str]]:
    """``clock(ms)`` (H:MM:SS) and ``percent(share)`` for a template."""

    def percent(share: float) -> str:
        return format_percent(share, "#,##0.0%", locale=code)

    def duration(ms: float) -> str:
        return clock(int(ms))

    return {"clock": duration, "percent": percent}
