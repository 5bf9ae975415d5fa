"""Argument types shared by several commands."""

from __future__ import annotations

import click

from agentstatus.domain.durations import parse_duration


class Duration(click.ParamType[int]):
    name = "DURATION"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
