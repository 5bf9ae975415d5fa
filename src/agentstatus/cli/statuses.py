"""``agentstatus status``: an organisation's status catalogue."""

from __future__ import annotations

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.params import Duration
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.durations import written
from agentstatus.domain.integers import INT32_MAX
from agentstatus.domain.policies import LimitAction
from agentstatus.service import policies, statuses


@click.group("status")
def group() -> None:
    """List, add, rename, recolour, enable and disable statuses."""


@group.command("list")
@click.argument("org")
@json_option
@pass_state
def list_(state: CliState, org: str, as_json: bool) -> None:
    """List ORG's statuses (enabled and disabled)."""
    found = statuses.list_statuses(state.engine, org)
    if as_json:
        print_json([s.as_json() for s in found])
        return
    print_table(
        ["id", "name", "color", "available", "enabled", "limit"],
        [
            (
                s.id,
                s.name,
                s.color,
                "yes" if s.available else "no",
                "yes" if s.enabled else "no",
                "-"
                if s.limit_seconds is None
                else f"{written(s.limit_seconds)}, then {s.limit_action}",
            )
            for s in found
        ],
    )


@group.command("add")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=click.IntRange(1, INT32_MAX))
@click.argument("name")
@click.option("--color", help="#RRGGBB")
@click.option("--available", is_flag=True, help="Agents in this status receive calls.")
@pass_state
def add(
    state: CliState, org: str, status_id: int, name: str, color: str | None, available: bool
) -> None:
    """Add status ID called NAME to ORG's catalogue (enabled)."""
    statuses.add_status(state.engine, org, status_id, name, color=color, available=available)
    click.echo(f"added status {status_id} ({name}) to {org}")


@group.command("rename")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=int)
@click.argument("name")
@pass_state
def rename(state: CliState, org: str, status_id: int, name: str) -> None:
    """Rename status ID."""
    statuses.update_status(state.engine, org, status_id, name=name)
    click.echo(f"renamed status {status_id} to {name}")


@group.command("color")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=int)
@click.argument("color")
@pass_state
def color(state: CliState, org: str, status_id: int, color: str) -> None:
    """Set status ID's colour (#RRGGBB)."""
    statuses.update_status(state.engine, org, status_id, color=color)
    click.echo(f"status {status_id} is now {color}")


@group.command("available")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=int)
@click.argument("flag", type=click.Choice(["yes", "no"]))
@pass_state
def available(state: CliState, org: str, status_id: int, flag: str) -> None:
    """Say whether agents in status ID receive calls (yes or no)."""
    statuses.update_status(state.engine, org, status_id, available=flag == "yes")
    click.echo(f"status {status_id} available: {flag}")


@group.command("enable")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=int)
@pass_state
def enable(state: CliState, org: str, status_id: int) -> None:
    """Accept status ID in requests again."""
    statuses.update_status(state.engine, org, status_id, enabled=True)
    click.echo(f"enabled status {status_id}")


@group.command("disable")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=int)
@pass_state
def disable(state: CliState, org: str, status_id: int) -> None:
    """Refuse status ID in requests ("Status not support"); 1 and 2 cannot be disabled."""
    statuses.update_status(state.engine, org, status_id, enabled=False)
    click.echo(f"disabled status {status_id}")


@group.command("limit")
@click.argument("org")
@click.argument("status_id", metavar="ID", type=click.IntRange(1, INT32_MAX))
@click.argument("duration", type=Duration(), required=False)
@click.option(
    "--then",
    type=click.Choice([a.value for a in LimitAction]),
    default=LimitAction.WARN.value,
    show_default=True,
    help="warn: an agent.overdue event and a highlight; login: back to Login; logout.",
)
@click.option("--clear", is_flag=True, help="Remove the limit.")
@pass_state
def limit(
    state: CliState, org: str, status_id: int, duration: int | None, then: str, clear: bool
) -> None:
    """Limit how long an agent stays in status ID: DURATION is 90s, 15m, 1h.

    Agents already in the status are held to the new limit from when they entered it.
    """
    if clear == (duration is not None):
        raise click.UsageError("give a DURATION, or --clear")
    found = policies.set_limit(
        state.engine,
        org,
        status_id,
        None if duration is None else policies.parse_limit(duration, then),
    )
    if found.limit_seconds is None:
        click.echo(f"status {status_id} ({found.name}) of {org}: no limit")
    else:
        click.echo(
            f"status {status_id} ({found.name}) of {org}: at most "
            f"{written(found.limit_seconds)}, then {found.limit_action}"
        )
