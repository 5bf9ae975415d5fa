"""``agentstatus user``: the people who sign in to the web pages."""

from __future__ import annotations

import sys

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.service import passwords, users
from agentstatus.service.errors import InvalidInput
from agentstatus.service.tokens import Role

password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin (else one is generated and printed).",
)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set, and whether it was generated (and so must be printed)."""
    if not from_stdin:
        return passwords.generate(), True
    line = sys.stdin.readline(passwords.MAX_LENGTH + 2)
    password = line.rstrip("\r\n")
    if not password:
        raise InvalidInput("no password on stdin")
    return password, False


@click.group("user")
def group() -> None:
    """Add, list and remove web users, and set their passwords."""


@group.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="admin: everything; supervisor: the board, history, reports, force logout.",
)
@click.option("--org", help="The organisation the user may see (default: all).")
@click.option("--name", default="", help="The name shown on the pages.")
@password_stdin
@pass_state
def add(
    state: CliState, email: str, role: str, org: str | None, name: str, password_stdin: bool
) -> None:
    """Add a user who signs in with EMAIL; a generated password is the last line."""
    password, generated = _password(password_stdin)
    user = users.add_user(state.engine, email, Role(role), password, org, name)
    scope = user.org or "all organisations"
    click.echo(f"added {role} {user.email} for {scope}")
    if generated:
        click.echo("password (shown once):")
        click.echo(password)


@group.command("list")
@json_option
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List users (never their passwords)."""
    found = users.list_users(state.engine)
    if as_json:
        print_json(
            [{"email": u.email, "name": u.name, "role": u.role.value, "org": u.org} for u in found]
        )
        return
    print_table(
        ["email", "role", "org", "name"],
        [(u.email, u.role.value, u.org or "*", u.name) for u in found],
    )


@group.command("password")
@click.argument("email")
@password_stdin
@pass_state
def password(state: CliState, email: str, password_stdin: bool) -> None:
    """Set EMAIL's password and sign out every session; a generated one is the last line."""
    new, generated = _password(password_stdin)
    users.set_password(state.engine, email, new)
    click.echo(f"password of {users.email(email)} changed; its sessions are signed out")
    if generated:
        click.echo("password (shown once):")
        click.echo(new)


@group.command("remove")
@click.argument("email")
@pass_state
def remove(state: CliState, email: str) -> None:
    """Remove EMAIL; its sessions end at once."""
    users.remove_user(state.engine, email)
    click.echo(f"removed {users.email(email)}")
