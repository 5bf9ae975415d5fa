"""``agentstatus org wrap-up``: reading the mode as written on the command line."""

from __future__ import annotations

import click

from agentstatus.cli.state import CliState
from agentstatus.domain.durations import WRITTEN, parse_duration, written
from agentstatus.domain.wrap_up import WrapUpMode, WrapUpSetting
from agentstatus.service import wrap_up


def set_wrap_up_from(state: CliState, org: str, mode: str, status: int | None) -> WrapUpSetting:
    word = mode.strip().lower()
    if word in (WrapUpMode.OFF.value, WrapUpMode.MANUAL.value):
        return wrap_up.set_wrap_up(state.engine, org, WrapUpMode(word), None, status)
    try:
        seconds = parse_duration(word)
    except ValueError:
        raise click.BadParameter(f"expected manual, off or {WRITTEN}", param_hint="MODE") from None
    return wrap_up.set_wrap_up(state.engine, org, WrapUpMode.TIMED, seconds, status)


def wrap_up_words(setting: WrapUpSetting) -> str:
    if setting.mode is WrapUpMode.OFF:
        return "no wrap-up"
    length = "until the agent chooses" if setting.seconds is None else written(setting.seconds)
    return f"wrap-up in status {setting.status}, {length}"
