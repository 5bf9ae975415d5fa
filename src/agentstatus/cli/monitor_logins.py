"""``agentstatus monitor-logins``: the logins of a CRM's Voicenter Events SDK to the
real-time monitor (``/monitorAPI/Login/...``), listed and revoked."""

from __future__ import annotations

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import to_iso
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import monitor_login


@click.group("monitor-logins")
def group() -> None:
    """List and revoke logins to the Voicenter monitor (the Events SDK's)."""


@group.command("list")
@click.argument("org")
@json_option
@pass_state
def list_(state: CliState, org: str, as_json: bool) -> None:
    """List ORG's monitor logins still valid (never their tokens)."""
    found = monitor_login.list_logins(state.engine, org)
    if as_json:
        print_json([g.as_json() for g in found])
        return
    print_table(
        ["id", "made from", "label", "created", "socket token until", "refresh until"],
        [
            (
                g.id,
                g.made_from,
                g.label or "-",
                to_iso(g.created_ms),
                to_iso(g.socket_expires_ms),
                to_iso(g.refresh_expires_ms),
            )
            for g in found
        ],
    )


@group.command("revoke")
@click.argument("org")
@click.argument("login_id", type=click.IntRange(1, INT64_MAX))
@pass_state
def revoke(state: CliState, org: str, login_id: int) -> None:
    """Revoke monitor login LOGIN_ID of ORG: its tokens stop at once, its sockets within
    seconds (on a running server)."""
    monitor_login.revoke_login(state.engine, org, login_id, state.actor)
    click.echo(f"revoked monitor login {login_id} of {org}")
