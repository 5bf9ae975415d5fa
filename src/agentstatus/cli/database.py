"""``agentstatus db``: schema upgrades and moving organisations between databases."""

from __future__ import annotations

import click

from agentstatus.cli.output import print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.secret_box import SecretBox
from agentstatus.storage.copy import copy_organisations
from agentstatus.storage.database import display_url
from agentstatus.storage.key_file import secret_box_for, secret_box_for_reading
from agentstatus.storage.migrate import open_database


@click.group("db")
def group() -> None:
    """Upgrade the schema; copy organisations between SQLite and PostgreSQL."""


@group.command("upgrade")
@pass_state
def upgrade(state: CliState) -> None:
    """Create or migrate the schema of --database (servers do this on start too)."""
    state.engine  # noqa: B018 - opening the database migrates it
    click.echo(f"{display_url(state.settings.database_url)} is up to date")


@group.command("copy")
@click.option("--from", "source_url", required=True, metavar="URL", help="Copy from.")
@click.option("--to", "target_url", required=True, metavar="URL", help="Copy into.")
@click.option(
    "--org", "orgs", multiple=True, help="Only this organisation (repeatable; default: all)."
)
@pass_state
def copy(state: CliState, source_url: str, target_url: str, orgs: tuple[str, ...]) -> None:
    """Copy organisations with their agents, extensions, statuses, presence, history,
    audit log, tokens and webhooks; counts are verified before the copy commits.

    Stop the servers using the source first, so nothing changes during the copy.
    Webhook secrets are re-encrypted with the target's key (AGENTSTATUS_SECRET_KEY, or
    the key file beside a target SQLite database).
    """
    key = state.settings.secret_key
    source = open_database(source_url)
    target = open_database(target_url)
    boxes: dict[str, SecretBox] = {}

    def reseal(sealed: str) -> str:
        if not boxes:
            boxes["from"] = secret_box_for_reading(source_url, key)
            boxes["to"] = secret_box_for(target_url, key)
        return boxes["to"].seal(boxes["from"].open(sealed))

    try:
        report = copy_organisations(source, target, list(orgs) or None, reseal)
    finally:
        source.dispose()
        target.dispose()
    click.echo(
        f"copied {len(report.organisations)} organisation(s) from {display_url(source_url)} "
        f"to {display_url(target_url)}: {', '.join(report.organisations) or '-'}"
    )
    print_table(["table", "rows"], sorted(report.counts.items()))
