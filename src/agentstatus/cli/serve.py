"""``agentstatus serve``: run the HTTP service."""

from __future__ import annotations

import gc
import logging

import click
from pydantic import ValidationError

from agentstatus.cli.state import CliState, cannot_open_as_error, pass_state
from agentstatus.service.errors import InvalidInput
from agentstatus.settings import Settings


@click.command()
@click.option("--host", envvar="AGENTSTATUS_HOST", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    envvar="AGENTSTATUS_PORT",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
)
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
    # Imported here: the HTTP stack is most of the start-up time of every other command.
    import uvicorn
    from uvicorn.config import LOG_LEVELS

    from agentstatus.app import create_app
    from agentstatus.http.head_limit import BoundedHttpToolsProtocol

    try:
        settings = Settings(
            database_url=state.database_url, host=host, port=port, access_log=access_log
        )
    except ValidationError as exc:  # a bad AGENTSTATUS_* variable
        first = exc.errors()[0]
        name = "AGENTSTATUS_" + "_".join(str(part) for part in first["loc"]).upper()
        raise InvalidInput(f"invalid {name}: {first['msg']}") from None
    log_level = settings.log_level.lower()  # uvicorn knows only lower-case names
    if log_level not in LOG_LEVELS:
        raise InvalidInput(
            f"invalid AGENTSTATUS_LOG_LEVEL {settings.log_level!r}: use one of "
            + ", ".join(LOG_LEVELS)
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with cannot_open_as_error():
        app = create_app(settings)
    # Everything built so far (modules, routes, schemas: hundreds of thousands of objects)
    # lives as long as the process. Frozen, it is left out of the collector's full passes,
    # which otherwise stop the event loop for ~100 ms a few times a minute under load (the
    # largest share of p99 in the benchmark).
    gc.collect()
    gc.freeze()
    click.echo(f"agentstatus serving on http://{host}:{port}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,  # ours redacts the Code; uvicorn's would print it
        log_level=log_level,
        server_header=False,
        # Client addresses come from AGENTSTATUS_TRUSTED_PROXIES only; uvicorn would
        # otherwise believe X-Forwarded-For from any local client.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
        http=BoundedHttpToolsProtocol,  # refuses request heads over 64 KiB with 431
    )
