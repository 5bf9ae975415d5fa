"""``agentstatus wall-link``: a read-only link to an organisation's wall, for a TV that no
one signs in to; ``wall-links`` lists them and ``wall-link-revoke`` ends them."""

from __future__ import annotations

import click

from agentstatus.cli.link_options import base_url_of, base_url_option
from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.params import Duration
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import to_iso
from agentstatus.domain.durations import written
from agentstatus.domain.integers import INT64_MAX
from agentstatus.service import wall_links
from agentstatus.service.wall_links import LIFETIME


@click.command("wall-link")
@click.argument("org")
@click.option(
    "--expires",
    "ttl",
    type=Duration(),
    default=written(LIFETIME.default),
    show_default=True,
    help=f"How long the link lasts: 12h, 30d, 90d (at most {written(LIFETIME.maximum)}).",
)
@click.option("--label", default="", help="What shows it, e.g. the TV by the door.")
@base_url_option
@pass_state
def wall_link(state: CliState, org: str, ttl: int, label: str, base_url: str | None) -> None:
    """A link to ORG's wall; prints the URL last (shown only once).

    The link shows the wall and nothing else, with no sign-in: whoever has it sees the
    organisation's agents and their statuses until it expires or is revoked.
    """
    created = wall_links.create_link(state.engine, org, label, ttl, state.actor)
    link = created.link
    click.echo(
        f"wall link {link.id} of {org}{' (' + link.label + ')' if link.label else ''}, "
        f"until {to_iso(link.expires_ms)} (shown once):"
    )
    click.echo(wall_links.wall_url(base_url_of(state, base_url), org, created.token))


@click.command("wall-links")
@click.argument("org")
@click.option("--all", "ended", is_flag=True, help="Also the revoked and expired links.")
@json_option
@pass_state
def list_links(state: CliState, org: str, ended: bool, as_json: bool) -> None:
    """List ORG's wall links still valid (never their tokens)."""
    found = wall_links.list_links(state.engine, org, ended=ended)
    if as_json:
        print_json([link.as_json() for link in found])
        return
    print_table(
        ["id", "label", "created", "by", "expires", *(["revoked"] if ended else [])],
        [
            (
                k.id,
                k.label or "-",
                to_iso(k.created_ms),
                k.created_by or "-",
                to_iso(k.expires_ms),
                *([to_iso(k.revoked_ms) if k.revoked_ms else "-"] if ended else []),
            )
            for k in found
        ],
    )


@click.command("wall-link-revoke")
@click.argument("org")
@click.argument("link_id", type=click.IntRange(1, INT64_MAX), required=False)
@pass_state
def revoke(state: CliState, org: str, link_id: int | None) -> None:
    """Revoke wall link LINK_ID of ORG, or without it every link of ORG; their walls stop
    within seconds."""
    if link_id is not None:
        wall_links.revoke_link(state.engine, org, link_id, state.actor)
        click.echo(f"revoked wall link {link_id}")
    else:
        count = wall_links.revoke_all(state.engine, org, state.actor)
        click.echo(f"revoked {count} wall link(s) of {org}")
