"""``agentstatus extension``: the SIP extensions of an organisation."""

from __future__ import annotations

from pathlib import Path

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.cli.textfile import read_text
from agentstatus.service import extensions


@click.group("extension")
def group() -> None:
    """Add, remove, list and import extensions."""


@group.command("add")
@click.argument("org")
@click.argument("extension")
@click.option("--name", default="", help="A display name (e.g. the desk).")
@pass_state
def add(state: CliState, org: str, extension: str, name: str) -> None:
    """Add EXTENSION (its SIP user name) to ORG."""
    extensions.add_extension(state.engine, org, extension, name)
    click.echo(f"added extension {extension} to {org}")


@group.command("remove")
@click.argument("org")
@click.argument("extension")
@pass_state
def remove(state: CliState, org: str, extension: str) -> None:
    """Remove EXTENSION; an agent logged in at it is logged out first."""
    state.changes(
        lambda changes: extensions.remove_extension(
            changes, state.engine, org, extension, state.actor
        )
    )
    click.echo(f"removed extension {extension} from {org}")


@group.command("list")
@click.argument("org")
@json_option
@pass_state
def list_(state: CliState, org: str, as_json: bool) -> None:
    """List ORG's extensions and who holds each."""
    found = extensions.list_extensions(state.engine, org)
    if as_json:
        print_json(
            [{"extension": e.extension, "name": e.name, "held_by": e.held_by} for e in found]
        )
    else:
        print_table(
            ["extension", "name", "held_by"], [(e.extension, e.name, e.held_by) for e in found]
        )


@group.command("import")
@click.argument("org")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@pass_state
def import_(state: CliState, org: str, file: Path) -> None:
    """Import extensions from a CSV with the header extension,name (at most 100,000 rows).

    Every row is checked first; a bad row means nothing is imported. Existing extensions
    get the file's name; running the same file again finishes an import that failed
    part-way.
    """
    summary = extensions.import_extensions(state.engine, org, read_text(file))
    click.echo(
        f"imported extensions into {org}: {summary.created} created, {summary.updated} updated"
    )
