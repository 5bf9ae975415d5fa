"""``agentstatus presence`` (who is where, now) and ``agentstatus force-logout``."""

from __future__ import annotations

import click

from agentstatus.cli.output import print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import to_iso
from agentstatus.service import presence as service


@click.command("presence")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
@pass_state
def presence(state: CliState, org: str, as_json: bool) -> None:
    """Show every active agent's extension, status and since when.

    JSON: [{"user_id", "name", "extension", "status", "status_name", "since"}, ...];
    extension is null when the agent is logged out; since is UTC.
    """
    found = service.list_presence(state.engine, org)
    if as_json:
        print_json([p.as_json() for p in found])
        return
    print_table(
        ["user_id", "name", "extension", "status", "since"],
        [
            (
                p.user_id,
                p.name,
                p.extension or "-",
                f"{p.status} {p.status_name or ''}".strip(),
                to_iso(p.since_ms),
            )
            for p in found
        ],
    )


@click.command("force-logout")
@click.argument("org")
@click.argument("user_id", required=False)
@click.option("--all", "everyone", is_flag=True, help="Log out every agent of ORG.")
@pass_state
def force_logout(state: CliState, org: str, user_id: str | None, everyone: bool) -> None:
    """Log agent USER_ID (or --all agents) of ORG out, recorded with source "admin"."""
    if everyone == (user_id is not None):
        raise click.UsageError("give one USER_ID, or --all")
    if user_id is None:
        count = state.changes(
            lambda changes: service.logout_everyone(changes, state.engine, org, state.actor)
        )
        click.echo(f"logged out {count} agent(s) of {org}")
        return
    changed = state.changes(
        lambda changes: service.force_logout(changes, state.engine, org, user_id, state.actor)
    )
    click.echo(f"logged out {user_id}" if changed else f"{user_id} was already logged out")
