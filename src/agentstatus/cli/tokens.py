"""``agentstatus token``: bearer tokens for the native API."""

from __future__ import annotations

import click

from agentstatus.cli.output import print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.service import tokens
from agentstatus.service.tokens import Role


@click.group("token")
def group() -> None:
    """Create, list and revoke API tokens."""


@group.command("create")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="admin: everything; supervisor: read state, history, reports, force logout.",
)
@click.option("--org", help="Scope the token to one organisation (default: all).")
@click.option("--label", default="", help="A note to recognise the token by.")
@pass_state
def create(state: CliState, role: str, org: str | None, label: str) -> None:
    """Create a token; prints it last (shown only once)."""
    created = tokens.create_token(state.engine, Role(role), org, label)
    scope = created.info.org or "all organisations"
    click.echo(f"created {role} token {created.info.id} for {scope} (shown once):")
    click.echo(created.token)


@group.command("list")
@pass_state
def list_(state: CliState) -> None:
    """List active tokens (never the tokens themselves)."""
    print_table(
        ["id", "role", "org", "label"],
        [(t.id, t.role.value, t.org or "*", t.label) for t in tokens.list_tokens(state.engine)],
    )


@group.command("revoke")
@click.argument("token_id", type=int)
@pass_state
def revoke(state: CliState, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    tokens.revoke_token(state.engine, token_id)
    click.echo(f"revoked token {token_id}")
