"""The root command group; user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Any

import click

from agentstatus import __version__
from agentstatus.cli import (
    agents,
    client,
    database,
    extensions,
    monitor_logins,
    organisations,
    pbx,
    statuses,
    tokens,
    users,
    webhooks,
)
from agentstatus.cli.demo import demo
from agentstatus.cli.history import history, report
from agentstatus.cli.panel_links import list_links, panel_link
from agentstatus.cli.panel_links import revoke as revoke_link
from agentstatus.cli.presence import force_logout, presence
from agentstatus.cli.queues import queue_service_level, queues
from agentstatus.cli.serve import serve
from agentstatus.cli.state import CliState
from agentstatus.cli.wall_links import list_links as list_wall_links
from agentstatus.cli.wall_links import revoke as revoke_wall_link
from agentstatus.cli.wall_links import wall_link
from agentstatus.domain.secret_box import SecretKeyError
from agentstatus.package_files import PackageFileMissing
from agentstatus.service.errors import ImportRejected, ServiceError
from agentstatus.settings import SettingsError, env_var
from agentstatus.storage.copy import CopyError
from agentstatus.storage.database import DEFAULT_DATABASE_URL, DatabaseURLError
from agentstatus.storage.types import DBAPIError

EXIT_USER_ERROR = 1
EXIT_DATABASE_ERROR = 3


class ErrorReportingGroup(click.Group):
    """Turns the service's refusals into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportRejected as exc:
            click.echo(f"error: {exc.message}", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except (
            SettingsError,
            ServiceError,
            CopyError,
            DatabaseURLError,
            SecretKeyError,
            PackageFileMissing,
        ) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USER_ERROR)
        except DBAPIError as exc:
            detail = " ".join(str(exc.orig or "").split())  # drivers' messages span lines
            click.echo(
                f"error: the database failed: {type(exc).__name__}: {detail}".rstrip(), err=True
            )
            ctx.exit(EXIT_DATABASE_ERROR)


@click.group(cls=ErrorReportingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    "database_url",
    metavar="URL",
    help="Database URL: sqlite:///relative.db or sqlite:////absolute/path.db "
    f"[default: {env_var('database_url')}, else {DEFAULT_DATABASE_URL}].",
)
@click.version_option(__version__, prog_name="agentstatus")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """agentstatus: Voicenter-compatible agent login, logout and status service.

    Every command but `serve` works on the database directly; the schema is created or
    upgraded automatically.
    """
    state = CliState(database_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


for module in (
    organisations,
    agents,
    extensions,
    statuses,
    tokens,
    users,
    webhooks,
    pbx,
    monitor_logins,
    database,
    client,
):
    cli.add_command(module.group)
for command in (
    serve,
    demo,
    presence,
    force_logout,
    history,
    report,
    panel_link,
    list_links,
    revoke_link,
    queues,
    queue_service_level,
    wall_link,
    list_wall_links,
    revoke_wall_link,
):
    cli.add_command(command)


def main() -> None:
    sys.exit(cli.main(prog_name="agentstatus", standalone_mode=True))
