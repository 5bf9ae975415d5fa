"""``agentstatus panel-link``: links to one agent's status panel, for the CRM to hand to
that agent's browser; ``panel-links`` lists them and ``panel-link-revoke`` ends them."""

from __future__ import annotations

import click

from agentstatus.cli.link_options import base_url_of, base_url_option
from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.params import Duration
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import to_iso
from agentstatus.domain.durations import written
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import panel_links
from agentstatus.service.panel_links import DEFAULT_TTL_SECONDS


@click.command("panel-link")
@click.argument("org")
@click.argument("user_id")
@click.option("--extension", help="Fix the extension the agent logs in at (default: asked).")
@click.option(
    "--ttl",
    type=Duration(),
    default=written(DEFAULT_TTL_SECONDS),
    show_default=True,
    help="How long the link lasts: 90m, 12h, 7d (at most 7 days).",
)
@base_url_option
@pass_state
def panel_link(
    state: CliState, org: str, user_id: str, extension: str | None, ttl: int, base_url: str | None
) -> None:
    """A link to USER_ID's status panel; prints the URL last (shown only once).

    The link can see and change that agent only. Whoever has it acts as the agent until it
    expires or is revoked: hand it to the agent's browser only.
    """
    created = panel_links.create_link(state.engine, org, user_id, extension, ttl)
    link = created.link
    click.echo(
        f"panel link {link.id} for agent {user_id} of {org}, "
        f"{'at extension ' + link.extension if link.extension else 'extension asked at login'}, "
        f"until {to_iso(link.expires_ms)} (shown once):"
    )
    click.echo(panel_links.panel_url(base_url_of(state, base_url), org, created.token))


@click.command("panel-links")
@click.argument("org")
@click.option("--agent", "user_id", help="Only this agent's links.")
@json_option
@pass_state
def list_links(state: CliState, org: str, user_id: str | None, as_json: bool) -> None:
    """List ORG's panel links still valid (never their tokens)."""
    found = panel_links.list_links(state.engine, org, user_id)
    if as_json:
        print_json(
            [
                {
                    "id": link.id,
                    "user_id": link.user_id,
                    "extension": link.extension,
                    "created_at": to_iso(link.created_ms),
                    "expires_at": to_iso(link.expires_ms),
                }
                for link in found
            ]
        )
        return
    print_table(
        ["id", "agent", "extension", "expires"],
        [(k.id, k.user_id, k.extension or "-", to_iso(k.expires_ms)) for k in found],
    )


@click.command("panel-link-revoke")
@click.argument("org")
@click.argument("link_id", type=click.IntRange(1, INT64_MAX), required=False)
@click.option("--agent", "user_id", help="Revoke every link of this agent instead.")
@pass_state
def revoke(state: CliState, org: str, link_id: int | None, user_id: str | None) -> None:
    """Revoke panel link LINK_ID (or every link of --agent); its panels stop within seconds."""
    if (link_id is None) == (user_id is None):
        raise click.UsageError("give a LINK_ID or --agent USER_ID")
    if link_id is not None:
        panel_links.revoke_link(state.engine, org, link_id)
        click.echo(f"revoked panel link {link_id}")
    else:
        assert user_id is not None
        count = panel_links.revoke_links_of(state.engine, org, user_id)
        click.echo(f"revoked {count} panel link(s) of agent {user_id}")
