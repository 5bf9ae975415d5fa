"""``agentstatus`` processes forked from a process that has already imported the service.

A test server started with ``python -m agentstatus serve`` spends most of its start
importing: about 1.8 s of CPU of its 2.3 s on this project's 2-core machine, paid by each
of the hundred-odd servers a run of the suite starts (the suite is CPU-bound). The standard
library's forkserver (:mod:`multiprocessing.forkserver`) imports the modules once per test
worker, in a process of its own, and forks a child for each server: the child is a real
process of its own (its own PID, signals, SIGKILL, its output in its log), runs the same
``agentstatus`` command line, with the environment and working directory the test gave,
and merely finds the modules already imported.

Not forked, but executed as before (:class:`subprocess.Popen`): another command (a wheel's
script, the bench's references), or an environment whose ``PYTHON*`` variables differ from
this process's (they act when the interpreter starts, which a fork does not do again).
``AGENTSTATUS_TEST_EXEC=1`` executes every server, to compare.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from multiprocessing.context import ForkServerProcess
from pathlib import Path

# Imported by the forkserver once, before it forks any child: the command line and the
# application the ``serve`` command builds (about 1.8 s of CPU).
PRELOAD = ["agentstatus.cli.main", "agentstatus.app"]

# The command a test runs, which a fork stands for.
COMMAND = (sys.executable, "-m", "agentstatus")

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def can_fork(command: tuple[str, ...], env: dict[str, str]) -> bool:
    """Whether ``command`` with ``env`` may be forked rather than executed."""
    if os.environ.get("AGENTSTATUS_TEST_EXEC") == "1" or sys.platform != "linux":
        return False
    if command != COMMAND:
        return False
    interpreter = {k: v for k, v in env.items() if k.startswith("PYTHON")}
    return interpreter == {k: v for k, v in os.environ.items() if k.startswith("PYTHON")}


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


def _child(
    args: list[str],
    env: dict[str, str],
    cwd: str | None,
    log_path: str,
    stdin_path: str = os.devnull,
    stderr_path: str | None = None,
) -> None:
    """In the forked child: become ``agentstatus ARGS`` writing its output to ``log_path``
    (and its errors to ``stderr_path`` when given), reading ``stdin_path``."""
    _redirect(0, stdin_path, os.O_RDONLY)
    # multiprocessing gave the child /dev/null as sys.stdin; this one reads descriptor 0.
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's stdin, never closed)
    _redirect(1, log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    _redirect(2, stderr_path or log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    # The forkserver ignores SIGINT; a process started from a shell does not.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["agentstatus", *args]
    from agentstatus.cli.main import main

    try:
        main()
    finally:
        # multiprocessing ends its children with os._exit(), which skips atexit: flush
        # what an interpreter's exit would.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()


class ForkedProcess:
    """The part of :class:`subprocess.Popen`'s interface the tests use, for a forked child
    running ``agentstatus ARGS`` (its output appended to ``log``)."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path | None,
        log: Path,
        *,
        stdin: Path | None = None,
        stderr: Path | None = None,
    ) -> None:
        self.args = args
        self._process: ForkServerProcess = _context.Process(  # type: ignore[attr-defined]
            target=_child,
            args=(
                args,
                env,
                None if cwd is None else str(cwd),
                str(log),
                os.devnull if stdin is None else str(stdin),
                None if stderr is None else str(stderr),
            ),
            name="agentstatus",
        )
        self._process.start()

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(["agentstatus", *self.args], timeout or 0.0)
        return code

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def run_agentstatus(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: str | None = None,
    timeout: float = 120,
) -> tuple[int, str, str]:
    """``python -m agentstatus ARGS`` as ``subprocess.run(..., capture_output=True,
    text=True, input=stdin)`` would run it, in a forked child when it can be: (exit code,
    standard output, standard error). ``env`` is the whole environment (default: this
    process's)."""
    environment = dict(os.environ if env is None else env)
    if not can_fork(COMMAND, environment):
        done = subprocess.run(
            [*COMMAND, *args],
            capture_output=True,
            text=True,
            env=environment,
            input=stdin,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
        return done.returncode, done.stdout, done.stderr
    with tempfile.TemporaryDirectory(prefix="agentstatus-cli-") as directory:
        out, err, given = (Path(directory) / name for name in ("out", "err", "in"))
        given.write_text(stdin or "")
        child = ForkedProcess(
            args, environment, None if cwd is None else Path(cwd), out, stdin=given, stderr=err
        )
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
            raise
        read = [path.read_text() if path.exists() else "" for path in (out, err)]
        return code, read[0], read[1]
