"""A real ``agentstatus serve`` process on a loopback port, as a user would start it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.forked import ForkedProcess, can_fork


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
        command: tuple[str, ...] = (sys.executable, "-m", "agentstatus"),
        cwd: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.log_path = log_path
        self.env = env or {}
        self.extra_args = extra_args
        self.command = command
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        """The command line (the bench's reference servers run another one)."""
        return [
            *self.command,
            "--database",
            self.database_url,
            "serve",
            "--port",
            str(self.port),
            *self.extra_args,
        ]

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = {**os.environ, **self.env}
        if can_fork(self.command, env):  # the same command, its imports already done
            self.process = ForkedProcess(
                self.argv()[len(self.command) :], env, self.cwd, self.log_path
            )
        else:
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                self.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
            )
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            # A loaded machine (xdist workers, a busy CI) may take seconds to answer the
            # first request: each try waits for the rest of the deadline, up to 5 s.
            wait = min(5.0, max(0.5, deadline - time.monotonic()))
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=wait).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what was committed must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
