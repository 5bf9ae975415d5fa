"""Running the real service for the client: in-process (ASGI, lifespan driven by hand) for
``AsyncClient`` and, through an event loop in a thread, for ``Client``; a scripted loopback
HTTP server for retries; and ``Twin``, one awaitable face over both clients."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
from starlette.types import ASGIApp, Message

from agentstatus.app import create_service
from agentstatus.client import (
    AsyncClient,
    Client,
    Extension,
    ExtensionPresence,
    Status,
    StatusResult,
)
from agentstatus.settings import Settings

T = TypeVar("T")
BASE_URL = "http://testserver"


class Twin:
    """``Client`` or ``AsyncClient`` behind the same awaitable methods, so one test body
    checks both."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client

    async def _call(self, name: str, *args: Any) -> Any:
        result = getattr(self.client, name)(*args)
        return await result if inspect.isawaitable(result) else result

    async def set_status(self, user_id: str, extension: str, status: object) -> StatusResult:
        result: StatusResult = await self._call("set_status", user_id, extension, status)
        return result

    async def login(self, user_id: str, extension: str) -> StatusResult:
        result: StatusResult = await self._call("login", user_id, extension)
        return result

    async def logout(self, user_id: str, extension: str) -> StatusResult:
        result: StatusResult = await self._call("logout", user_id, extension)
        return result

    async def statuses(self) -> list[Status]:
        result: list[Status] = await self._call("statuses")
        return result

    async def extensions(self) -> list[Extension]:
        result: list[Extension] = await self._call("extensions")
        return result

    async def presence(self, extension: str | None = None) -> list[ExtensionPresence]:
        result: list[ExtensionPresence] = await self._call("presence", extension)
        return result

    async def close(self) -> None:
        if isinstance(self.client, AsyncClient):
            await self.client.aclose()
        else:
            self.client.close()


Connect = Callable[..., Twin]


def twin(flavour: str, code: str | None, base_url: str, **kwargs: Any) -> Twin:
    kind = AsyncClient if flavour == "async" else Client
    return Twin(kind(code, base_url, **kwargs))


class Lifespan:
    """Drives an ASGI app's lifespan protocol (ASGITransport does not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __aenter__(self) -> Lifespan:
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        assert message["type"] == "lifespan.startup.complete", message
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await self._from_app.get()
        assert message["type"] == "lifespan.shutdown.complete", message
        await self._task


class Portal:
    """An event loop in a thread: where the app runs for a blocking ``Client``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class PortalTransport(httpx.BaseTransport):
    """A blocking transport that hands each request to an ASGI app in the portal's loop."""

    def __init__(self, portal: Portal, app: ASGIApp) -> None:
        self.portal = portal
        self.inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> tuple[int, httpx.Headers, bytes]:
            response = await self.inner.handle_async_request(request)
            return response.status_code, response.headers, await response.aread()

        status, headers, body = self.portal.call(run())
        return httpx.Response(status, headers=headers, content=body)


@asynccontextmanager
async def in_process(settings: Settings, flavour: str) -> AsyncIterator[Connect]:
    """The real service built by ``create_service(settings)``, served without a socket;
    yields ``connect(code, **client_kwargs) -> Twin``."""
    service = create_service(settings)
    twins: list[Twin] = []

    def remember(made: Twin) -> Twin:
        twins.append(made)
        return made

    if flavour == "async":
        transport = httpx.ASGITransport(app=service.asgi)
        async with Lifespan(service.asgi):
            try:
                yield lambda code, **kw: remember(
                    twin("async", code, BASE_URL, transport=transport, **kw)
                )
            finally:
                for made in twins:
                    await made.close()
        return
    portal = Portal()
    lifespan = Lifespan(service.asgi)
    portal.call(lifespan.__aenter__())
    sync_transport = PortalTransport(portal, service.asgi)
    try:
        yield lambda code, **kw: remember(
            twin("sync", code, BASE_URL, transport=sync_transport, **kw)
        )
    finally:
        for made in twins:
            await made.close()
        portal.call(lifespan.__aexit__(None, None, None))
        portal.close()


# -- a scripted loopback server, for retries -------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, object] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


OK = Answer(200, {"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"})
ERROR_ON_UPDATE = {"Status": 0, "StatusError": 4, "StatusErroMessage": "Error on update"}
AUTH_FAILED = {"Status": 2, "StatusError": 0, "StatusErroMessage": "Authorization Failed"}


@dataclass
class Received:
    method: str
    path: str
    body: bytes
    at: float


class ScriptedServer:
    """A real HTTP server on a loopback port that gives the scripted answers in order (the
    last one again once the script runs out) and records what it received."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.received: list[Received] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                script.received.append(Received(self.command, self.path, body, time.monotonic()))
                n = len(script.received) - 1
                answer = script.answers[min(n, len(script.answers) - 1)]
                time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A client that gave up waiting is what a timeout test wants.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@contextmanager
def scripted(*answers: Answer) -> Iterator[ScriptedServer]:
    with ScriptedServer(*answers) as server:
        yield server
