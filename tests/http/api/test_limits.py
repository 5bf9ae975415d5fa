"""Oversized and malformed request bodies: 413 and 422, never a 500 or a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from agentstatus.service.tokens import Role
from tests.http.api.helpers import declare_large_body
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

MiB = 1024 * 1024


def test_a_json_body_over_1_mib_is_413(admin: httpx.Client, org: OrgFixture) -> None:
    body = {"user_id": "700", "name": "x" * (MiB + 10)}
    answer = admin.post(f"/orgs/{org.name}/agents", json=body)
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": "the request body is larger than 1 MiB",
        "code": "payload_too_large",
    }
    assert "700" not in [a["user_id"] for a in admin.get(f"/orgs/{org.name}/agents").json()]


@pytest.mark.parametrize(
    ("content_type", "length", "limit"),
    [("application/json", MiB + 1, 1), ("text/csv; charset=utf-8", 16 * MiB + 1, 16)],
)
def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(
    shared_server: ServerProcess,
    token_for: Callable[..., str],
    org: OrgFixture,
    content_type: str,
    length: int,
    limit: int,
) -> None:
    status, body = declare_large_body(
        shared_server,
        f"/api/v1/orgs/{org.name}/agents/import",
        token_for(Role.ADMIN),
        content_type,
        length,
    )
    assert status == 413
    assert body == {
        "detail": f"the request body is larger than {limit} MiB",
        "code": "payload_too_large",
    }


def test_a_streamed_body_over_the_limit_is_413(admin: httpx.Client, org: OrgFixture) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"user_id": "701", "name": "'
        for _ in range(20):
            yield b"y" * (64 * 1024)
        yield b'"}'

    answer = admin.post(
        f"/orgs/{org.name}/agents",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert "701" not in [a["user_id"] for a in admin.get(f"/orgs/{org.name}/agents").json()]


def test_a_csv_import_over_1_mib_is_accepted(admin: httpx.Client, org: OrgFixture) -> None:
    name = "n" * 250
    rows = [f"e{i},{name}" for i in range(5000)]
    content = ("extension,name\n" + "\n".join(rows) + "\n").encode()
    assert len(content) > MiB
    answer = admin.post(
        f"/orgs/{org.name}/extensions/import", content=content, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"created": 5000, "updated": 0}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe", b"null"])
def test_a_malformed_json_body_is_422_without_a_traceback(
    admin: httpx.Client, org: OrgFixture, content: bytes
) -> None:
    answer = admin.post(
        f"/orgs/{org.name}/agents", content=content, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert "Traceback" not in answer.text
    assert isinstance(answer.json()["detail"], list)


def test_unknown_paths_and_methods_are_plain_http_errors(admin: httpx.Client) -> None:
    assert admin.get("/nothing-here").status_code == 404
    answer = admin.delete("/orgs")
    assert answer.status_code == 405
    assert answer.json() == {"detail": "Method Not Allowed", "code": "method_not_allowed"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "statuses"), ("PUT", "embed-origins"), ("PUT", "shift-end")],
)
def test_a_body_that_is_not_utf8_without_a_content_type_is_422(
    admin: httpx.Client, org: OrgFixture, method: str, path: str
) -> None:
    # FastAPI's own handler failed to encode the bytes in its validation error (a 500).
    answer = admin.request(
        method, f"/orgs/{org.name}/{path}", content=b"\x80", headers={"content-type": ""}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body"]
