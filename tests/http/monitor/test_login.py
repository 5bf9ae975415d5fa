"""The Events SDK's login to the monitor over HTTP (SPEC section 9): token and user logins,
the answer's shape field by field, refusals in the SDK's shape, the limiter, refreshing,
the server list, and the operators' list and revoke; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from agentstatus.app import revoked_credentials
from agentstatus.events import credentials
from agentstatus.http.access_log import AccessLogMiddleware
from agentstatus.service import monitor_login
from agentstatus.service.tokens import Role, create_token, revoke_token
from agentstatus.service.users import add_user, remove_user, set_password
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess

PASSWORD = "a long enough password"
SOCKET_KEYS = {
    "Token",
    "TokenExpiry",
    "RefreshToken",
    "RefreshTokenExpiry",
    "PersonID",
    "PersonId",
    "Url",
    "URL",
    "URLList",
    "Version",
    "Client",
}
FAILURE_KEYS = {"StatusCode", "Status", "error", "Data"}


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    return shared_database_url_on_each_engine


@pytest.fixture
def org(shared_org_factory: Callable[..., OrgFixture]) -> OrgFixture:
    return shared_org_factory()


@pytest.fixture
def http(shared_server: ServerProcess) -> httpx.Client:
    with httpx.Client(base_url=shared_server.base_url, timeout=30) as client:
        yield client


def _expiry(text: str) -> timedelta:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text) - datetime.now(UTC)


def _socket(answer: httpx.Response, base_url: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"StatusCode", "Status", "Data"}
    assert (body["StatusCode"], body["Status"]) == (0, "OK")
    assert set(body["Data"]) == {"Socket"}
    socket: dict[str, Any] = body["Data"]["Socket"]
    assert set(socket) == SOCKET_KEYS
    assert isinstance(socket["Token"], str)
    assert socket["Token"].startswith("asm_")
    assert isinstance(socket["RefreshToken"], str)
    assert socket["RefreshToken"].startswith("asr_")
    assert timedelta(minutes=59) < _expiry(socket["TokenExpiry"]) <= timedelta(hours=1)
    assert timedelta(days=29) < _expiry(socket["RefreshTokenExpiry"]) <= timedelta(days=30)
    assert isinstance(socket["PersonID"], int)
    assert socket["PersonID"] == socket["PersonId"]
    assert socket["Url"] == socket["URL"] == base_url
    assert socket["URLList"] == [base_url]
    assert (socket["Version"], socket["Client"]) == ("1.3.7", "")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"] == "no-store"
    return socket


def _refused(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == FAILURE_KEYS
    assert body["StatusCode"] == status
    assert body["Data"] is None
    assert isinstance(body["error"], str)
    assert body["error"]
    return str(body["error"])


def test_a_token_of_one_organisation_logs_in(
    http: httpx.Client, shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    made = create_token(shared_engine, Role.SUPERVISOR, org.name)
    answer = http.post("/monitorAPI/Login/Token", json={"token": made.token})
    socket = _socket(answer, shared_server.base_url)
    assert socket["PersonID"] == made.info.id
    identity = monitor_login.socket_identity(shared_engine, socket["Token"])
    assert identity is not None
    assert (identity.org, identity.person_id) == (org.name, made.info.id)
    # Matched without case, as Voicenter's paths are.
    again = http.post("/MONITORAPI/login/token/", json={"token": made.token})
    assert _socket(again, shared_server.base_url)["Token"] != socket["Token"]


def test_a_token_of_every_organisation_is_refused_with_a_reason(
    http: httpx.Client, shared_engine: Engine
) -> None:
    made = create_token(shared_engine, Role.ADMIN)
    error = _refused(http.post("/monitorAPI/Login/Token", json={"token": made.token}), 403)
    assert "one organisation" in error
    assert made.token not in error


@pytest.mark.parametrize("token", ["ast_unknown", "asp_a-panel-link", "x" * 2000])
def test_an_unknown_token_is_401(http: httpx.Client, token: str) -> None:
    status = 400 if len(token) > 1024 else 401
    _refused(http.post("/monitorAPI/Login/Token", json={"token": token}), status)


def test_a_revoked_token_is_401(http: httpx.Client, shared_engine: Engine, org: OrgFixture) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name)
    revoke_token(shared_engine, made.info.id)
    _refused(http.post("/monitorAPI/Login/Token", json={"token": made.token}), 401)


def test_a_web_user_logs_in_with_email_and_pin(
    http: httpx.Client, shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    user = add_user(
        shared_engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, PASSWORD, org.name
    )
    answer = http.post(
        "/monitorAPI/Login/User", json={"email": user.email.upper(), "pin": PASSWORD}
    )
    socket = _socket(answer, shared_server.base_url)
    assert socket["PersonID"] == user.id
    wrong = _refused(
        http.post("/monitorAPI/Login/User", json={"email": user.email, "pin": "not it at all"}),
        401,
    )
    unknown = _refused(
        http.post("/monitorAPI/Login/User", json={"email": "nobody@example.com", "pin": PASSWORD}),
        401,
    )
    assert wrong == unknown  # nothing tells a wrong e-mail from a wrong password


def test_a_removed_user_or_a_user_of_every_organisation_cannot_log_in(
    http: httpx.Client, shared_engine: Engine, org: OrgFixture
) -> None:
    gone = add_user(shared_engine, f"gone-{org.name}@example.com", Role.ADMIN, PASSWORD, org.name)
    remove_user(shared_engine, gone.email)
    body = {"email": gone.email, "pin": PASSWORD}
    _refused(http.post("/monitorAPI/Login/User", json=body), 401)
    everyone = add_user(shared_engine, f"all-{org.name}@example.com", Role.ADMIN, PASSWORD)
    body = {"email": everyone.email, "pin": PASSWORD}
    assert "one organisation" in _refused(http.post("/monitorAPI/Login/User", json=body), 403)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/monitorAPI/Login/Token", b"not json"),
        ("/monitorAPI/Login/Token", b"[1]"),
        ("/monitorAPI/Login/Token", b"{}"),
        ("/monitorAPI/Login/Token", b'{"token": 12}'),
        ("/monitorAPI/Login/Token", b'{"token": ""}'),
        ("/monitorAPI/Login/Token", b'{"token": "a\\u0000b"}'),
        ("/monitorAPI/Login/User", b'{"email": "a@b.c"}'),
        ("/monitorAPI/Login/User", b'{"email": ["a@b.c"], "pin": "x"}'),
        ("/monitorAPI/Login/User", b"\xff\xfe"),
        ("/monitorAPI/Login/User", b"{" + b" " * 5000 + b"}"),
    ],
)
def test_malformed_bodies_are_400(http: httpx.Client, path: str, body: bytes) -> None:
    answer = http.post(path, content=body, headers={"content-type": "application/json"})
    _refused(answer, 400)


def test_a_wrong_method_is_405_and_a_preflight_is_answered(http: httpx.Client) -> None:
    answer = http.get("/monitorAPI/Login/Token")
    _refused(answer, 405)
    assert "POST" in answer.headers["allow"]
    preflight = http.options("/monitorAPI/Login/User")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


def test_a_refresh_rotates_both_tokens(
    http: httpx.Client, shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name)
    first = _socket(
        http.post("/monitorAPI/Login/Token", json={"token": made.token}), shared_server.base_url
    )
    auth = {"Authorization": f"Bearer {first['RefreshToken']}"}
    second = _socket(
        http.get("/monitorAPI/RefreshIdentityToken", headers=auth), shared_server.base_url
    )
    assert second["Token"] != first["Token"]
    assert second["RefreshToken"] != first["RefreshToken"]
    assert monitor_login.socket_identity(shared_engine, first["Token"]) is None
    identity = monitor_login.socket_identity(shared_engine, second["Token"])
    assert identity is not None
    assert identity.org == org.name
    _refused(http.get("/monitorAPI/RefreshIdentityToken", headers=auth), 401)
    _refused(http.get("/monitorAPI/RefreshIdentityToken"), 401)
    bad = {"Authorization": "Bearer asr_nothing"}
    _refused(http.get("/monitorAPI/RefreshIdentityToken", headers=bad), 401)


def test_monitor_urls_with_and_without_a_token(
    http: httpx.Client, shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    domain = shared_server.base_url.removeprefix("http://")
    expected = [{"URLID": 1, "Priority": 1, "Version": "1.3.7", "Domain": domain}]
    assert http.get("/monitorAPI/getMonitorUrls").json() == expected
    made = create_token(shared_engine, Role.SUPERVISOR, org.name)
    by_api_token = http.get(f"/monitorAPI/getMonitorUrls/{made.token}")
    assert (by_api_token.status_code, by_api_token.json()) == (200, expected)
    login = monitor_login.login_with_token(shared_engine, made.token)
    assert isinstance(login, monitor_login.MonitorLogin)
    by_socket_token = http.get(f"/monitorapi/GETMONITORURLS/{login.token}")
    assert (by_socket_token.status_code, by_socket_token.json()) == (200, expected)
    _refused(http.get("/monitorAPI/getMonitorUrls/ast_wrong"), 401)


def test_the_token_in_the_path_never_reaches_the_access_log() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    stream = io.StringIO()
    logged = AccessLogMiddleware(app, stream)
    secret = "ast_s3cr3t-value"

    async def request(path: str) -> None:
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            pass

        await logged(scope, receive, send)

    async def both() -> None:
        await request(f"/monitorAPI/getMonitorUrls/{secret}")
        await request(f"/MonitorApi/GetMonitorUrls/{secret}/")
        logged.flush()

    asyncio.run(both())
    text = stream.getvalue()
    assert secret not in text
    assert text.count("[redacted]") == 2, text


def test_ended_among_and_socket_identity_follow_revocations(
    shared_engine: Engine, org: OrgFixture
) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name)
    by_token = monitor_login.login_with_token(shared_engine, made.token)
    revoked_later = monitor_login.login_with_token(shared_engine, made.token)
    user = add_user(shared_engine, f"u-{org.name}@example.com", Role.SUPERVISOR, PASSWORD, org.name)
    by_user = monitor_login.login_with_user(shared_engine, user.email, PASSWORD)
    other = add_user(
        shared_engine, f"o-{org.name}@example.com", Role.SUPERVISOR, PASSWORD, org.name
    )
    by_other = monitor_login.login_with_user(shared_engine, other.email, PASSWORD)
    logins = [by_token, revoked_later, by_user, by_other]
    assert all(isinstance(x, monitor_login.MonitorLogin) for x in logins)
    a, b, c, d = (x.identity.grant_id for x in logins if isinstance(x, monitor_login.MonitorLogin))
    assert monitor_login.ended_among(shared_engine, {a, b, c, d}) == set()
    monitor_login.revoke_login(shared_engine, org.name, b, "test")
    assert monitor_login.ended_among(shared_engine, {a, b, c, d}) == {b}
    assert isinstance(revoked_later, monitor_login.MonitorLogin)
    assert monitor_login.socket_identity(shared_engine, revoked_later.token) is None
    set_password(shared_engine, user.email, "another good password")
    remove_user(shared_engine, other.email)
    assert monitor_login.ended_among(shared_engine, {a, b, c, d}) == {b, c, d}
    revoke_token(shared_engine, made.info.id)
    assert monitor_login.ended_among(shared_engine, {a, b, c, d, 10**12}) == {a, b, c, d, 10**12}
    assert isinstance(by_token, monitor_login.MonitorLogin)
    assert monitor_login.socket_identity(shared_engine, by_token.token) is None


def test_an_expired_socket_token_is_refused(shared_engine: Engine, org: OrgFixture) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name)
    login = monitor_login.login_with_token(shared_engine, made.token, token_seconds=0)
    assert isinstance(login, monitor_login.MonitorLogin)
    assert monitor_login.socket_identity(shared_engine, login.token) is None
    # Its grant holds: the refresh token still makes a new one.
    again = monitor_login.refresh(shared_engine, login.refresh_token)
    assert isinstance(again, monitor_login.MonitorLogin)
    assert monitor_login.socket_identity(shared_engine, again.token) is not None
    assert monitor_login.socket_identity(shared_engine, "asm_unknown") is None


def test_operators_list_and_revoke_monitor_logins(
    shared_server: ServerProcess,
    shared_engine: Engine,
    org: OrgFixture,
    shared_org_factory: Callable[..., OrgFixture],
) -> None:
    made = create_token(shared_engine, Role.SUPERVISOR, org.name, label="wallboard CRM")
    login = monitor_login.login_with_token(shared_engine, made.token)
    assert isinstance(login, monitor_login.MonitorLogin)
    api = f"{shared_server.base_url}/api/v1/orgs/{org.name}/monitor-logins"
    auth = {"Authorization": f"Bearer {made.token}"}
    listed = httpx.get(api, headers=auth)
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert set(row) == {
        "id",
        "made_from",
        "label",
        "created_at",
        "socket_token_expires_at",
        "refresh_token_expires_at",
    }
    assert (row["id"], row["made_from"], row["label"]) == (
        login.identity.grant_id,
        f"token:{made.info.id}",
        "wallboard CRM",
    )
    assert login.token not in listed.text
    assert login.refresh_token not in listed.text
    stranger = create_token(shared_engine, Role.ADMIN, shared_org_factory().name)
    other = httpx.get(api, headers={"Authorization": f"Bearer {stranger.token}"})
    assert other.status_code == 403
    revoked = httpx.delete(f"{api}/{row['id']}", headers=auth)
    assert revoked.status_code == 204, revoked.text
    assert httpx.get(api, headers=auth).json() == []
    assert monitor_login.socket_identity(shared_engine, login.token) is None
    missing = httpx.delete(f"{api}/{10**12}", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_the_older_sdk_s_username_and_password_log_in(
    http: httpx.Client, shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    user = add_user(shared_engine, f"js-{org.name}@example.com", Role.ADMIN, PASSWORD, org.name)
    body = {"username": user.email, "password": PASSWORD}
    socket = _socket(http.post("/monitorAPI/Login/User", json=body), shared_server.base_url)
    assert socket["PersonID"] == user.id


def test_the_fan_out_s_watcher_ends_the_sockets_of_ended_logins(
    shared_engine: Engine, org: OrgFixture
) -> None:
    made = create_token(shared_engine, Role.ADMIN, org.name)
    kept = monitor_login.login_with_token(shared_engine, made.token)
    ended = monitor_login.login_with_token(shared_engine, made.token)
    assert isinstance(kept, monitor_login.MonitorLogin)
    assert isinstance(ended, monitor_login.MonitorLogin)
    monitor_login.revoke_login(shared_engine, org.name, ended.identity.grant_id)
    held = {
        credentials.monitor(kept.identity.grant_id, f"token:{made.info.id}"),
        credentials.monitor(ended.identity.grant_id, f"token:{made.info.id}"),
        credentials.token(made.info.id),
    }
    assert revoked_credentials(shared_engine, held) == {
        credentials.monitor(ended.identity.grant_id)
    }
