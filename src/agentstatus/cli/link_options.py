"""What the link commands share (``panel-link``, ``wall-link``): the address the link
starts with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from agentstatus.cli.state import CliState

base_url_option: Callable[[Callable[..., Any]], Callable[..., Any]] = click.option(
    "--base-url",
    metavar="URL",
    help="The address browsers reach the service at [default: AGENTSTATUS_PUBLIC_URL, "
    "else http://HOST:PORT of the settings].",
)


def base_url_of(state: CliState, given: str | None) -> str:
    """``--base-url``, else ``AGENTSTATUS_PUBLIC_URL``, else the settings' host and port."""
    settings = state.settings
    return given or settings.public_url or f"http://{settings.host}:{settings.port}"
