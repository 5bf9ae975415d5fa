"""``agentstatus serve``: run the HTTP service."""

from __future__ import annotations

import logging

import click
import uvicorn

from agentstatus.app import create_app
from agentstatus.cli.state import CliState, pass_state
from agentstatus.settings import Settings


@click.command()
@click.option("--host", envvar="AGENTSTATUS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="AGENTSTATUS_PORT", default=8000, show_default=True, type=int)
@click.option(
    "--access-log/--no-access-log",
    envvar="AGENTSTATUS_ACCESS_LOG",
    default=True,
    show_default=True,
    help="Log each request (the Code is always redacted).",
)
@pass_state
def serve(state: CliState, host: str, port: int, access_log: bool) -> None:
    """Serve the API on HOST:PORT until interrupted."""
    settings = Settings(
        database_url=state.database_url, host=host, port=port, access_log=access_log
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    click.echo(f"agentstatus serving on http://{host}:{port}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,  # ours redacts the Code; uvicorn's would print it
        log_level=settings.log_level,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
