"""The real service served by uvicorn on a loopback port from a thread of the test process.

A module's tests talk to it exactly as to a ``ServerProcess`` (HTTP over a socket, event
streams, a browser), but it starts in a fraction of the time: no interpreter to start, no
imports. What needs a real process — kill, restart after a crash, several instances, the
server's own log file, its environment — keeps ``ServerProcess``.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from agentstatus.app import create_service
from agentstatus.http.head_limit import BoundedHttpToolsProtocol
from agentstatus.http.stopping import StreamEndingServer
from agentstatus.http.websocket_protocol import MAX_FRAME_BYTES, RedactingWebSocketProtocol
from agentstatus.settings import ENV_PREFIX, Settings, load_settings
from tests.support.server import ServerProcess


class InProcessServer(ServerProcess):
    """``ServerProcess``'s face (``base_url``, ``port``, ``database_url``, start/stop, a
    context manager) over a uvicorn server in a thread, configured as ``agentstatus serve``
    configures it. It writes no log file of its own and cannot be killed."""

    def __init__(
        self, database_url: str, log_path: Path, *, env: dict[str, str] | None = None
    ) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # the port is ours from now: no race with others
        super().__init__(database_url, log_path, port=self._socket.getsockname()[1], env=env)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> InProcessServer:
        # No access log: its lines would go to whichever test's captured stderr is current
        # (a CLI test counting its own lines of stderr); the tests of the access log read
        # a real server's log file.
        # ``env`` as a process would read it (``AGENTSTATUS_X`` sets the field ``x``),
        # without changing this process's environment under other tests' threads.
        fields = {
            name.removeprefix(ENV_PREFIX).lower(): value
            for name, value in self.env.items()
            if name.startswith(ENV_PREFIX)
        }
        assert set(fields) <= set(Settings.model_fields), f"unknown settings in {self.env}"
        settings = load_settings(
            **{**fields, "database_url": self.database_url, "port": self.port, "access_log": False}
        )
        service = create_service(settings)
        config = uvicorn.Config(
            service.asgi,
            access_log=False,
            log_config=None,  # the test process's logging stays as pytest set it up
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=10,
            ws=RedactingWebSocketProtocol,
            ws_max_size=MAX_FRAME_BYTES,
            http=BoundedHttpToolsProtocol.with_head_timeout(settings.head_timeout_seconds),
        )
        server = StreamEndingServer(config, service.context.fanout.end_streams)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.01)
        return self

    def kill(self) -> None:
        raise NotImplementedError("an in-process server cannot be killed: use ServerProcess")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(30)
            if self._thread.is_alive():
                raise RuntimeError("the in-process server did not stop")
        self._server = self._thread = None

    def __enter__(self) -> InProcessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._socket.close()
