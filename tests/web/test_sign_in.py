"""Signing in and out over HTTP against a real server: cookies, sessions, the limiter,
and no hint whether an e-mail exists."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.service import users
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess
from tests.support.web import PASSWORD, SAME_ORIGIN, WebUser, add_user, signed_in, text_of


def _sign_in(base_url: str, email: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/sign-in",
        data={"email": email, "password": password, "next": "/"},
        headers={**SAME_ORIGIN, **headers},
    )


def test_pages_ask_to_sign_in_first(shared_server: ServerProcess) -> None:
    answer = httpx.get(f"{shared_server.base_url}/o/anything/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fo%2Fanything%2F%3Fx%3D1"
    form = httpx.get(f"{shared_server.base_url}/sign-in").text
    assert 'autocomplete="username"' in form
    assert 'autocomplete="current-password"' in form


def test_signing_in_sets_a_session_cookie_and_shows_the_board(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    answer = _sign_in(shared_server.base_url, supervisor.email.upper(), supervisor.password)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("agentstatus_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    board = httpx.get(f"{shared_server.base_url}/", cookies=answer.cookies)
    assert board.status_code == 200
    assert f"Board {org.name}" in text_of(board.text)


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(
    shared_database_url: str, shared_engine: Engine, supervisor: WebUser, tmp_path: Path
) -> None:
    env = {"AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1"}
    with ServerProcess(shared_database_url, tmp_path / "s.log", env=env) as server:
        plain = _sign_in(server.base_url, supervisor.email, supervisor.password)
        proxied = _sign_in(
            server.base_url, supervisor.email, supervisor.password, **{"x-forwarded-proto": "https"}
        )
    assert "Secure" not in plain.headers["set-cookie"]
    assert "Secure" in proxied.headers["set-cookie"]


def test_an_untrusted_forwarded_proto_does_not_count(
    shared_server: ServerProcess, supervisor: WebUser
) -> None:
    answer = _sign_in(
        shared_server.base_url,
        supervisor.email,
        supervisor.password,
        **{"x-forwarded-proto": "https"},
    )
    assert "Secure" not in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    shared_server: ServerProcess, supervisor: WebUser
) -> None:
    wrong = _sign_in(shared_server.base_url, supervisor.email, "not the password")
    unknown = _sign_in(shared_server.base_url, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "set-cookie" not in wrong.headers
    assert "Wrong e-mail or password." in wrong.text
    assert wrong.text.replace(supervisor.email, "X") == unknown.text.replace(
        "nobody@example.com", "X"
    )


def test_signing_out_ends_the_session_on_the_server(
    shared_server: ServerProcess, supervisor: WebUser
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        cookie = dict(client.cookies)
        assert client.get("/").status_code == 200
        out = client.post("/sign-out", headers=SAME_ORIGIN)
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in"
    # The old cookie, replayed, no longer works: the session row is gone.
    assert httpx.get(f"{shared_server.base_url}/", cookies=cookie).status_code == 303


def test_a_new_password_or_removing_the_user_signs_out_every_session(
    shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    user = add_user(shared_engine, f"leaving-{org.name}@example.com", Role.SUPERVISOR, org.name)
    base, renewed_user = shared_server.base_url, WebUser(user.email, "another password 123")
    with signed_in(base, user) as first, signed_in(base, user) as second:
        users.set_password(shared_engine, user.email, renewed_user.password)
        assert first.get("/").status_code == 303
        assert second.get("/").status_code == 303
    with signed_in(base, renewed_user) as renewed:
        assert renewed.get("/").status_code == 200
        users.remove_user(shared_engine, user.email)
        assert renewed.get("/").status_code == 303


def test_an_idle_session_expires(
    shared_database_url: str, shared_engine: Engine, supervisor: WebUser, tmp_path: Path
) -> None:
    env = {"AGENTSTATUS_SESSION_IDLE_SECONDS": "1"}
    with (
        ServerProcess(shared_database_url, tmp_path / "s.log", env=env) as server,
        signed_in(server.base_url, supervisor) as client,
    ):
        assert client.get("/").status_code == 200
        time.sleep(1.5)
        expired = client.get("/")
    assert expired.status_code == 303
    assert expired.headers["location"].startswith("/sign-in")


def test_failed_sign_ins_are_limited_per_address(
    shared_database_url: str, shared_engine: Engine, supervisor: WebUser, tmp_path: Path
) -> None:
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "5"}
    with ServerProcess(shared_database_url, tmp_path / "s.log", env=env) as server:
        answers = [
            _sign_in(server.base_url, supervisor.email, f"wrong {i}").status_code for i in range(8)
        ]
        blocked = _sign_in(server.base_url, supervisor.email, PASSWORD)
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429] * 3
    # Blocked even with the right password: the allowance is the address's.
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "set-cookie" not in blocked.headers


def test_sign_in_goes_back_only_to_local_pages(
    shared_server: ServerProcess, supervisor: WebUser
) -> None:
    for target, expected in [
        ("/o/x/", "/o/x/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        answer = httpx.post(
            f"{shared_server.base_url}/sign-in",
            data={"email": supervisor.email, "password": supervisor.password, "next": target},
            headers=SAME_ORIGIN,
        )
        assert answer.headers["location"] == expected, target


def test_malformed_sign_in_forms_get_the_form_again(shared_server: ServerProcess) -> None:
    base = shared_server.base_url
    empty = httpx.post(f"{base}/sign-in", headers=SAME_ORIGIN)
    huge = httpx.post(
        f"{base}/sign-in", data={"email": "a" * 5000, "password": "b" * 5000}, headers=SAME_ORIGIN
    )
    binary = httpx.post(
        f"{base}/sign-in",
        content=b"\xff\xfe\x00=\x01",
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert empty.status_code == huge.status_code == binary.status_code == 401
    too_large = httpx.post(
        f"{base}/sign-in",
        content=b"a=" + b"x" * (2 * 1024 * 1024),
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert too_large.status_code == 413
