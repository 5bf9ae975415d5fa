"""Helpers of the native API tests: status changes through the Voicenter-compatible
endpoint (as a CRM makes them), the command line, and raw HTTP for oversized requests."""

from __future__ import annotations

import json
import socket

import httpx

from tests.support.forked import run_agentstatus
from tests.support.server import ServerProcess


def set_status(server: ServerProcess, code: str, user_id: str, extension: str, status: int) -> None:
    answer = httpx.get(
        f"{server.base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user_id, "ExtensionUser": extension, "Status": status},
        timeout=10,
    )
    assert answer.json()["StatusErroMessage"] == "OK", answer.text


def statuses_list(server: ServerProcess, code: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/UserLogin/GetStatusesList", params={"code": code})


def code_works(server: ServerProcess, code: str) -> bool:
    return "Statuses" in statuses_list(server, code).json()


def cli_json(database_url: str, *args: str) -> object:
    code, stdout, stderr = run_agentstatus(
        ["--database", database_url, *args, "--json"], timeout=60
    )
    assert code == 0, stderr
    return json.loads(stdout)


def declare_large_body(
    server: ServerProcess, path: str, token: str, content_type: str, length: int
) -> tuple[int, dict[str, object]]:
    """Send only the headers of a request announcing ``length`` bytes; return the answer's
    status and JSON body (the server must answer without waiting for the body)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header, _, body = data.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    return status, json.loads(body)
