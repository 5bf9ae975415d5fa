"""A real webhook receiver on a loopback port, recording what it is sent and verifying every
request with the ``standardwebhooks`` library, as a receiver in the field would."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import Engine
from standardwebhooks import Webhook, WebhookVerificationError

from agentstatus.domain.webhook_secret import new_secret, standard_secret
from agentstatus.outbound import OutboundPolicy
from agentstatus.service import webhooks
from tests.support import contract

# Receivers listen on loopback, which the outbound address policy refuses by default: what
# a server (LOOPBACK_ENV) or a direct call (LOOPBACK) needs to reach them.
LOOPBACK_NETWORKS = "127.0.0.0/8"
LOOPBACK_ENV = {"AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS": LOOPBACK_NETWORKS}
LOOPBACK = OutboundPolicy.from_setting(LOOPBACK_NETWORKS)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers 200, or what ``respond`` says; ``hang`` makes it hold requests open.

    Every request is verified with ``standardwebhooks.Webhook(secret).verify``: give the
    endpoint ``secret`` (a fresh ``whsec_`` one) when adding it, or set ``secret`` to the one
    the server made. A request that does not verify is recorded in ``unverified``, and fails
    ``wait_for`` and the end of the ``with`` block. ``verify`` False is for the tests of the
    outbound transport, which post what is not a webhook."""

    def __init__(
        self,
        respond: Callable[[int], int] = lambda n: 200,
        secret: str | None = None,
        *,
        verify: bool = True,
        contract: bool = True,
    ) -> None:
        self.verify = verify
        self.contract = contract
        """Whether what it receives is checked against /asyncapi.json (False for tests
        that deliver bodies of their own, not the server's events)."""
        self.secret = secret if secret is not None else new_secret()
        self.received: list[Received] = []
        self.unverified: list[str] = []
        self.respond = respond
        self.hang = threading.Event()
        self.arrived = threading.Event()  # a request has come in (hanging or not)
        self._lock = threading.Lock()
        self.violations: list[str] = []
        """Deliveries that do not match /asyncapi.json (found at the exit, which fails)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.arrived.set()
                receiver._verify(dict(self.headers.items()), body)
                while receiver.hang.is_set():
                    time.sleep(0.05)
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    status = receiver.respond(len(receiver.received))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.hang.clear()
        self.server.shutdown()
        self.server.server_close()
        # Checked once it is closed, not as requests come (the tests that time answers).
        if self.contract:
            self.violations += contract.violations_of_webhooks(
                (r.headers, r.body) for r in self.received
            )
        if exc_type is None:
            self.check_verified()
            if self.violations:
                raise AssertionError(f"not as /asyncapi.json says: {self.violations[0]}")

    def _verify(self, headers: dict[str, str], body: bytes) -> None:
        if not self.verify:
            return
        # A secret that is not whsec_ is given to the library in its whsec_ form, as the
        # docs tell a receiver to.
        try:
            Webhook(standard_secret(self.secret)).verify(body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            with self._lock:
                self.unverified.append(f"{headers.get('webhook-id')}: {exc}")

    def check_verified(self) -> None:
        with self._lock:
            assert not self.unverified, f"deliveries failed verification: {self.unverified}"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_verified()
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.received)}")


class ScriptedReceiver:
    """A loopback receiver that reads each request and then runs ``answer(sock)``, to
    answer as badly as a hostile receiver does (dripping, huge bodies); ``connections``
    counts the requests that arrived, ``stop`` ends every answer that loops."""

    def __init__(self, answer: Callable[[socket.socket, threading.Event], None]) -> None:
        self.answer = answer
        self.connections = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> ScriptedReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += conn.recv(65536)
            with self._lock:
                self.connections += 1
            # OSError: the server hung up, as it should on a body it will not read.
            with contextlib.suppress(OSError):
                self.answer(conn, self.stop)


def drip_head(conn: socket.socket, stop: threading.Event, every: float = 1.0) -> None:
    """A status line, then one byte of a header every ``every`` seconds, forever: every
    read gets something, so only a total deadline ends it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    while not stop.wait(every):
        conn.sendall(b"a")


def huge_error(size: int) -> Callable[[socket.socket, threading.Event], None]:
    """A 500 whose body is ``size`` bytes, sent as fast as the server takes it."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(f"HTTP/1.1 500 Oops\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b"x" * 65536
        sent = 0
        while sent < size and not stop.is_set():
            conn.sendall(chunk)
            sent += len(chunk)

    return answer


def deliveries_once_answered(
    engine: Engine, org: str, count: int = 1, timeout: float = 10.0
) -> list[webhooks.Delivery]:
    """The organisation's ``count`` deliveries once each is delivered. A receiver has a
    request before the deliverer has read the answer and recorded it: read straight
    after ``wait_for``, a delivery may still be pending (CI once saw it so)."""
    deadline = time.monotonic() + timeout
    while True:
        found = webhooks.list_deliveries(engine, org)
        if len(found) == count and all(d.state == "delivered" for d in found):
            return found
        assert time.monotonic() < deadline, [(d.id, d.state) for d in found]
        time.sleep(0.02)
