"""``agentstatus pbx``: an organisation's phone system (Asterisk or FreeSWITCH)."""

from __future__ import annotations

import sys

import click

from agentstatus.cli.output import json_option, print_json
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.pbx_config import PbxConfigError, make_config
from agentstatus.service import pbx_settings
from agentstatus.service.errors import InvalidInput


@click.group("pbx")
def group() -> None:
    """Connect an organisation to its phone system, show the connection, turn it off."""


@group.command("set")
@click.argument("org")
@click.argument("kind", type=click.Choice(["asterisk", "freeswitch"]))
@click.option("--host", required=True, help="The phone system's host name or address.")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Default: 5038 (AMI), 8021 (event socket)."
)
@click.option("--username", help="Asterisk: the manager.conf user.")
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the AMI secret or event-socket password from standard input (one line). "
    "Needed the first time; without it the stored one is kept.",
)
@click.option("--queue", "queues", multiple=True, required=True, help="A queue (repeatable).")
@click.option("--interface", help="Asterisk: the member interface. Default: PJSIP/{extension}.")
@click.option("--state-interface", help="Asterisk: the member's state interface.")
@click.option("--agent", help="FreeSWITCH: the mod_callcenter agent name. Default: {user_id}.")
@click.option("--contact", help="FreeSWITCH: the agent's contact. Default: user/{extension}.")
@pass_state
def set_(
    state: CliState,
    org: str,
    kind: str,
    host: str,
    port: int | None,
    username: str | None,
    secret_stdin: bool,
    queues: tuple[str, ...],
    interface: str | None,
    state_interface: str | None,
    agent: str | None,
    contact: str | None,
) -> None:
    """Connect ORG to its phone system (KIND: asterisk or freeswitch). The running
    service connects within a lease check (a few seconds) and repairs the queues."""
    if kind == "asterisk" and (agent or contact):
        raise click.UsageError("--agent and --contact are FreeSWITCH's")
    if kind == "freeswitch" and (interface or state_interface):
        raise click.UsageError("--interface and --state-interface are Asterisk's")
    try:
        config = make_config(
            kind,
            host,
            port=port,
            queues=list(queues),
            username=username,
            interface=interface,
            state_interface=state_interface,
            agent=agent,
            contact=contact,
        )
    except PbxConfigError as exc:
        raise InvalidInput(str(exc)) from None
    secret = sys.stdin.readline() if secret_stdin else None
    saved = pbx_settings.set_pbx(
        state.engine,
        state.secret_box,
        org,
        config,
        secret,
        outbound=state.settings.outbound_policy(),
    )
    c = saved.config
    click.echo(f"{org}: {c.kind.value} at {c.host}:{c.port}, queues {', '.join(c.queues)}")


@group.command("show")
@click.argument("org")
@json_option
@pass_state
def show(state: CliState, org: str, as_json: bool) -> None:
    """Whether ORG's phone system is connected, its last error, its last reconcile and the
    differences repaired."""
    found = pbx_settings.pbx_state(state.engine, org)
    if found is None:
        if as_json:
            print_json(None)
        else:
            click.echo(f"{org} has no phone system (agentstatus pbx set {org} ...)")
        return
    shown = found.as_json()
    if as_json:
        print_json(shown)
        return
    c = found.config
    click.echo(f"phone system:   {c.kind.value} at {c.host}:{c.port}")
    click.echo(f"queues:         {', '.join(c.queues)}")
    for key in ("username", "interface", "state_interface", "agent", "contact"):
        if shown.get(key):
            click.echo(f"{key.replace('_', ' ') + ':':<16}{shown[key]}")
    since = shown["connected_since"]
    click.echo(f"connected:      {'yes, since ' + str(since) if shown['connected'] else 'no'}")
    if shown["held_by"]:
        click.echo(f"held by:        {shown['held_by']}")
    if found.last_error:
        click.echo(f"last error:     {found.last_error} ({shown['last_error_at']})")
    reconcile = shown["last_reconcile"]
    if isinstance(reconcile, dict):
        click.echo(
            f"last reconcile: {reconcile['at']}: {reconcile['checked']} seats checked, "
            f"{reconcile['repaired']} repaired"
        )
    click.echo(f"repaired:       {found.repaired_total} in all")
    click.echo(f"commands sent:  {found.commands_total}")


@group.command("off")
@click.argument("org")
@pass_state
def off(state: CliState, org: str) -> None:
    """Disconnect ORG from its phone system (its queues are left as they are)."""
    pbx_settings.remove_pbx(state.engine, org)
    click.echo(f"{org}: phone system off")
