"""A small Server-Sent Events reader over httpx, for tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import orjson

from tests.support import contract


@dataclass(frozen=True)
class SSEvent:
    event: str
    id: int | None
    data: dict[str, object]


def read_events(lines: Iterator[str]) -> Iterator[SSEvent]:
    event, event_id, data = "message", None, ""
    for line in lines:
        if line == "":
            if data:
                yield SSEvent(event, event_id, orjson.loads(data))
            event, event_id, data = "message", None, ""
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "id":
                event_id = int(value)
            elif name == "data":
                data += value


class Subscriber:
    """Collects a stream's events on a background thread."""

    def __init__(
        self,
        url: str,
        token: str,
        last_event_id: int | None = None,
        params: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.events: list[SSEvent] = []
        self.arrived: list[float] = []
        """``time.monotonic()`` when each event of ``events`` was read."""
        self.status_code: int | None = None
        self.error: httpx.HTTPError | None = None
        """What ended the stream if not the end of the response (a reset, a cut chunk)."""
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._url = url
        self._params = params or []
        self._headers = headers
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._socket: socket.socket | None = None
        self.violations: list[str] = []
        """Events that do not match /asyncapi.json (found at the exit, which fails)."""

    def _run(self) -> None:
        try:
            with self._client.stream(
                "GET", self._url, headers=self._headers, params=self._params
            ) as response:
                self.status_code = response.status_code
                stream = response.extensions.get("network_stream")
                if stream is not None:
                    self._socket = stream.get_extra_info("socket")
                self._ready.set()
                for event in read_events(response.iter_lines()):
                    self.arrived.append(time.monotonic())
                    self.events.append(event)
                    if self._stop.is_set():
                        return
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self._ready.set()

    def __enter__(self) -> Subscriber:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        # Closing the client does not wake the thread blocked reading a quiet stream (nor
        # tell the server: the socket stays open until the read returns, at the next
        # keepalive, 15 s on). Shutting the socket down does both at once.
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._client.close()
        self._thread.join(5)
        # Checked after the stream, not as it is read: a reader slowed by the checks would
        # fall behind the server in the tests that measure how one keeps up.
        self.violations += contract.violations_of_stream((e.event, e.data) for e in self.events)
        if exc[0] is None and self.violations:
            raise AssertionError(f"not as /asyncapi.json says: {self.violations[0]}")

    def wait_closed(self, timeout: float = 10.0) -> None:
        """Until the server ended the stream."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the stream is still open")

    def wait_ended_cleanly(self, timeout: float = 10.0) -> None:
        """Until the server ended the stream with the end of a 200 response, not an error."""
        self.wait_closed(timeout)
        assert self.status_code == 200, self.status_code
        assert self.error is None, f"the stream ended in an error: {self.error!r}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SSEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.events) >= count:
                return list(self.events)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} events, got {self.events}")
