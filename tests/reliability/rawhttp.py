"""HTTP/1.1 over a raw socket: requests exactly as written (junk included), answers parsed
by hand, so that what the server sends back is seen byte for byte."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

# The server's own refusals of what is not HTTP, or of a head over 64 KiB (text/plain).
HTTP_REFUSALS = (b"Invalid HTTP request received.", b"Request header fields too large.")


@dataclass(frozen=True)
class RawAnswer:
    status: int | None
    """None when the connection closed without a complete answer."""
    headers: dict[str, str]
    body: bytes
    seconds: float


def _dechunk(data: bytes) -> bytes | None:
    out = b""
    while True:
        size_line, sep, rest = data.partition(b"\r\n")
        if not sep:
            return None
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        if len(rest) < size + 2:
            return None
        out, data = out + rest[:size], rest[size + 2 :]


def _parse(data: bytes, head_only: bool) -> tuple[int, dict[str, str], bytes] | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only or status in (204, 304):
        return status, headers, b""
    if "content-length" in headers:
        length = int(headers["content-length"])
        return (status, headers, rest[:length]) if len(rest) >= length else None
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(rest)
        return None if body is None else (status, headers, body)
    return None  # delimited by the connection closing


def exchange(
    port: int, request: bytes, *, head_only: bool = False, timeout: float = 15.0
) -> RawAnswer:
    """Send ``request`` and read one answer: up to its declared end, or until the server
    closes the connection."""
    started = time.monotonic()
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # it may answer and close before reading it all
            sock.sendall(request)
        while True:
            parsed = _parse(data, head_only)
            if parsed is not None:
                return RawAnswer(*parsed, time.monotonic() - started)
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                chunk = b""
            if not chunk:
                break
            data += chunk
    seconds = time.monotonic() - started
    head, sep, rest = data.partition(b"\r\n\r\n")
    found = _parse(head + sep, head_only=True) if sep else None
    if found is None:
        return RawAnswer(None, {}, b"", seconds)
    return RawAnswer(found[0], found[1], rest, seconds)  # delimited by the close


def build(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes | None = None,
    *,
    chunked: bool = False,
) -> bytes:
    """A request with ``Host`` and ``Connection: close``, and the body framed by
    Content-Length (or chunked)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    payload = b""
    if body is not None:
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        else:
            lines.append(f"Content-Length: {len(body)}")
            payload = body
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload
