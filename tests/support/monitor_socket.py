"""For the monitor socket's tests: a *test* ``MonitorSource`` that records what it is asked
and feeds scripted messages, served by a real uvicorn (a thread of the test process) through
the real ``Dispatcher`` and ``MonitorSocket``. The real source (the service's logins and the
organisation's feed) is another module's; these tests are about the socket alone."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.events.monitor_session import MonitorEnded, MonitorMessage
from agentstatus.http.application import Dispatcher
from agentstatus.http.monitor_socket import MonitorSocket
from agentstatus.http.websocket_protocol import MAX_FRAME_BYTES, RedactingWebSocketProtocol
from agentstatus.service.errors import TooMany
from agentstatus.wire.monitor_events import ServerTime, keepalive_response
from tests.support.node import NODE_DIR, node_with

GOOD_TOKEN = "good-socket-token-5b1f0c"  # a test's made-up token
FULL_TOKEN = "full-socket-token-77aa01"  # its login holds its most sockets
IDENTITY = MonitorIdentity(org="acme", org_id=7, grant_id=11, person_id=3)
OFFSET_MINUTES = 120


def message(event: str, payload: Any) -> MonitorMessage:
    return MonitorMessage(event, json.dumps(payload).encode())


GREETING = [
    message(
        "loginSuccess",
        {"errorCode": 0, "errorDesc": "Ok", "servertime": 1, "servertimeoffset": 120},
    ),
    message("loginStatus", {"queues": [], "servertime": 1, "servertimeoffset": 120}),
    message("AllExtensionsStatus", {"extensions": [], "servertime": 1, "servertimeoffset": 120}),
]


class ScriptedSession:
    """A ``MonitorSession`` whose ``next()`` hands out what the test pushes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[list[MonitorMessage] | MonitorEnded] = asyncio.Queue()
        self.closed = 0
        self.resyncs = 0
        self.monitored: list[str] = []

    def greeting(self) -> list[MonitorMessage]:
        return list(GREETING)

    async def next(self) -> list[MonitorMessage]:
        item = await self.queue.get()
        if isinstance(item, MonitorEnded):
            raise item
        return item

    def resync(self) -> list[MonitorMessage]:
        self.resyncs += 1
        return [message("AllExtensionsStatus", {"extensions": [], "resync": self.resyncs})]

    def monitor(self, extensions: str) -> list[MonitorMessage]:
        self.monitored.append(extensions)
        return [message("ExtensionsUpdated", extensions)]

    def keepalive(self) -> MonitorMessage:
        moment = ServerTime(int(time.time()), OFFSET_MINUTES)
        return message("keepaliveResponse", keepalive_response(moment))

    def close(self) -> None:
        self.closed += 1

    # the test's side (another thread)
    def push(self, item: list[MonitorMessage] | MonitorEnded) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


@dataclass
class ScriptedSource:
    """The test ``MonitorSource``: knows ``GOOD_TOKEN`` (and ``FULL_TOKEN``, whose login is
    full); records every token it was asked about and every session it opened."""

    tokens: list[str] = field(default_factory=list)
    sessions: list[ScriptedSession] = field(default_factory=list)
    opened: threading.Condition = field(default_factory=threading.Condition)

    async def authenticate(self, token: str) -> MonitorIdentity | None:
        self.tokens.append(token)
        return IDENTITY if token in (GOOD_TOKEN, FULL_TOKEN) else None

    async def open(self, identity: MonitorIdentity) -> ScriptedSession:
        assert identity == IDENTITY
        if self.tokens[-1] == FULL_TOKEN:
            raise TooMany("This login holds its most sockets.", retry_after=5)
        session = ScriptedSession(asyncio.get_running_loop())
        with self.opened:
            self.sessions.append(session)
            self.opened.notify_all()
        return session

    def session(self, index: int = 0, timeout: float = 10.0) -> ScriptedSession:
        with self.opened:
            assert self.opened.wait_for(lambda: len(self.sessions) > index, timeout)
            return self.sessions[index]


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    """Polls a condition another thread makes true (the server's loop closing a session)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.01)


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("not found", status_code=404)(scope, receive, send)


async def nothing() -> None:
    return None


class SocketServer:
    """The Dispatcher with only the monitor socket, on a loopback port, in a thread."""

    def __init__(self, *, wired: bool = True, **socket_options: Any) -> None:
        self.source = ScriptedSource()
        self.endpoint = MonitorSocket(self.source, **socket_options)
        monitor = self.endpoint if wired else None  # not wired: the service as it is today
        app = Dispatcher({}, not_found, nothing, nothing, monitor=monitor)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            access_log=False,
            log_config=None,
            ws=RedactingWebSocketProtocol,
            ws_max_size=MAX_FRAME_BYTES,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> SocketServer:
        self._thread.start()
        wait_until(lambda: self._server.started)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self._socket.close()


def node_or_skip() -> str:
    """The ``node`` binary with the socket.io clients installed; skips without them, fails
    in CI."""
    return node_with("socket.io-client-1")


class NodeClient:
    """``tests/node/monitor_client.js`` as a subprocess: its lines read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, version: int, url: str, token: str | None) -> NodeClient:
        node = node_or_skip()
        args = [node, str(NODE_DIR / "monitor_client.js"), str(version), url]
        if token is not None:
            args.append(token)
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def line(self, timeout: float = 15.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            assert self.process.stderr is not None
            error = await self.process.stderr.read()
            raise AssertionError(f"the client ended; seen {self.seen}; stderr {error.decode()}")
        event: dict[str, Any] = json.loads(raw)
        self.seen.append(event)
        return event

    async def until(self, name: str, timeout: float = 15.0) -> dict[str, Any]:
        """Lines up to and including the next event called ``name``."""
        while True:
            event = await self.line(timeout)
            if event["event"] == name:
                return event

    async def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
