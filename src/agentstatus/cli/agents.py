"""``agentstatus agent``: the agents of an organisation."""

from __future__ import annotations

from pathlib import Path

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.cli.textfile import read_text
from agentstatus.service import agents


@click.group("agent")
def group() -> None:
    """Add, rename, deactivate, list and import agents."""


@group.command("add")
@click.argument("org")
@click.argument("user_id")
@click.option("--name", default="", help="The agent's display name.")
@pass_state
def add(state: CliState, org: str, user_id: str, name: str) -> None:
    """Add agent USER_ID to ORG (logged out)."""
    agent = agents.add_agent(state.engine, org, user_id, name)
    click.echo(f"added agent {agent.user_id} to {org}")


@group.command("rename")
@click.argument("org")
@click.argument("user_id")
@click.argument("name")
@pass_state
def rename(state: CliState, org: str, user_id: str, name: str) -> None:
    """Set the display name of agent USER_ID."""
    agents.rename_agent(state.engine, org, user_id, name)
    click.echo(f"renamed agent {user_id}")


@group.command("deactivate")
@click.argument("org")
@click.argument("user_id")
@pass_state
def deactivate(state: CliState, org: str, user_id: str) -> None:
    """Log agent USER_ID out and refuse its requests from now on (history is kept)."""
    state.changes(
        lambda changes: agents.deactivate_agent(changes, state.engine, org, user_id, state.actor)
    )
    click.echo(f"deactivated agent {user_id}")


@group.command("activate")
@click.argument("org")
@click.argument("user_id")
@pass_state
def activate(state: CliState, org: str, user_id: str) -> None:
    """Allow a deactivated agent to log in again."""
    agents.activate_agent(state.engine, org, user_id)
    click.echo(f"activated agent {user_id}")


@group.command("list")
@click.argument("org")
@json_option
@pass_state
def list_(state: CliState, org: str, as_json: bool) -> None:
    """List ORG's agents."""
    found = agents.list_agents(state.engine, org)
    if as_json:
        print_json([a.as_json() for a in found])
    else:
        print_table(
            ["user_id", "name", "active"],
            [(a.user_id, a.name, "yes" if a.active else "no") for a in found],
        )


@group.command("import")
@click.argument("org")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@pass_state
def import_(state: CliState, org: str, file: Path) -> None:
    """Import agents from a CSV with the header user_id,name (at most 100,000 rows).

    Every row is checked first; a bad row means nothing is imported. Existing agents get
    the file's name; running the same file again finishes an import that failed part-way.
    FILE may be - for standard input.
    """
    summary = agents.import_agents(state.engine, org, read_text(file))
    click.echo(f"imported agents into {org}: {summary.created} created, {summary.updated} updated")
