"""``agentstatus serve``: run the HTTP service."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys

import click

from agentstatus.cli.state import CliState, cannot_open_as_error, pass_state
from agentstatus.settings import Settings, env_var

_DEFAULTS = Settings.model_fields


def _default(field: str) -> str:
    value = _DEFAULTS[field].default
    if isinstance(value, bool):
        value = "yes" if value else "no"
    return f"[default: {env_var(field)}, else {value}]"


@click.command()
@click.option("--host", metavar="HOST", help=f"Listen on this address {_default('host')}.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help=f"Listen on this port {_default('port')}.",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help=f"Log each request (the Code is always redacted) {_default('access_log')}.",
)
@pass_state
def serve(state: CliState, host: str | None, port: int | None, access_log: bool | None) -> None:
    """Serve the API on HOST:PORT until interrupted."""
    # Imported here: the HTTP stack is most of the start-up time of every other command.
    import uvicorn
    from uvicorn.config import LOG_LEVELS, STARTUP_FAILURE

    from agentstatus.app import create_service
    from agentstatus.http.head_limit import BoundedHttpToolsProtocol
    from agentstatus.http.stopping import StreamEndingServer
    from agentstatus.http.websocket_protocol import MAX_FRAME_BYTES, RedactingWebSocketProtocol

    given = {"host": host, "port": port, "access_log": access_log}
    # Click has checked each value's type and range, which is all Settings would check.
    settings = state.settings.model_copy(
        update={name: value for name, value in given.items() if value is not None}
    )
    log_level = settings.log_level
    # By number: the logging module has no name for uvicorn's "trace".
    logging.basicConfig(
        level=LOG_LEVELS[log_level], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs each request's URL at INFO, and a webhook URL may carry a token in its
    # query; the deliverer logs each failure itself, without the URL.
    logging.getLogger("httpx").setLevel(max(LOG_LEVELS[log_level], logging.WARNING))
    with cannot_open_as_error():
        service = create_service(settings)
    # Everything built so far (modules, routes, schemas: hundreds of thousands of objects)
    # lives as long as the process. Frozen, it is left out of the collector's full passes,
    # which otherwise stop the event loop for ~100 ms a few times a minute under load (the
    # largest share of p99 in the benchmark).
    gc.collect()
    gc.freeze()
    click.echo(f"agentstatus serving on http://{settings.host}:{settings.port}", err=True)
    config = uvicorn.Config(
        service.asgi,
        host=settings.host,
        port=settings.port,
        access_log=False,  # ours redacts the Code; uvicorn's would print it
        log_level=log_level,
        server_header=False,
        # Client addresses come from AGENTSTATUS_TRUSTED_PROXIES only; uvicorn would
        # otherwise believe X-Forwarded-For from any local client.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
        # uvicorn's default of 2048 pending connections is below a floor of event streams
        # reconnecting at once (the kernel caps it at net.core.somaxconn).
        backlog=4096,
        # The monitor socket (/socket.io/); uvicorn's own WebSocket protocol would log each
        # handshake's query string (a token in it), this one cuts it out.
        ws=RedactingWebSocketProtocol,
        ws_max_size=MAX_FRAME_BYTES,
        # refuses request heads over 64 KiB (431) or slower than the timeout (408)
        http=BoundedHttpToolsProtocol.with_head_timeout(settings.head_timeout_seconds),
    )
    server = StreamEndingServer(config, service.context.fanout.end_streams)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C is a stop
        server.run()
    if not server.started:  # as uvicorn.run (the port taken, the start-up failed)
        sys.exit(STARTUP_FAILURE)
