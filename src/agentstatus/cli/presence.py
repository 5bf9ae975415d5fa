"""``agentstatus presence`` (who is where, now), ``agentstatus presence set`` (a
supervisor's change, any status, with a reason) and ``agentstatus force-logout``."""

from __future__ import annotations

import click

from agentstatus.cli.output import print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import to_iso
from agentstatus.domain.integers import INT32_MAX
from agentstatus.service import presence as service
from agentstatus.service.set_presence import SupervisorChange, set_presence


class ShowByDefault(click.Group):
    """``presence ORG`` shows (as it always did); ``presence set …`` changes: a first
    argument that is not a subcommand's name is the organisation of ``show``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("presence", cls=ShowByDefault)
def presence() -> None:
    """Who is where now (presence ORG), and a supervisor's change (presence set)."""


@presence.command("show")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
@pass_state
def show(state: CliState, org: str, as_json: bool) -> None:
    """Show every active agent's extension, status and since when (also: presence ORG).

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


@presence.command("set")
@click.argument("org")
@click.argument("user_id")
@click.argument("status", type=click.IntRange(1, INT32_MAX))
@click.option("--extension", help="Where the agent sits (default: the one it holds).")
@click.option("--reason", help="Why, in the history (at most 200 characters).")
@click.option("--json", "as_json", is_flag=True, help="Print the presence as JSON.")
@pass_state
def set_status(
    state: CliState,
    org: str,
    user_id: str,
    status: int,
    extension: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Put agent USER_ID of ORG in STATUS (any enabled status; 2 logs out), recorded with
    source "supervisor", the reason, and who as cli:<your login name>."""
    ask = SupervisorChange(user_id, status, extension, reason, state.actor)
    found = state.changes(lambda changes: set_presence(changes, state.engine, org, ask))
    if as_json:
        print_json(found.as_json())
        return
    where = found.extension or "-"
    click.echo(f"{user_id}: {found.status} {found.status_name or ''} at {where}".rstrip())
