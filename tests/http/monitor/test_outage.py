"""A monitor login the database cannot serve is answered 503 in the SDK's shape, with
Retry-After: never a stack trace, never a 500, and not a failed authentication."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from agentstatus.app import open_database
from agentstatus.service import monitor_login
from agentstatus.service.tokens import Role, create_token
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess


def test_a_login_the_database_fails_is_503(any_database_url: str, tmp_path: Path) -> None:
    engine = open_database(any_database_url)
    try:
        made = create_token(engine, Role.SUPERVISOR, make_org(engine).name)
        env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "1"}
        with InProcessServer(any_database_url, tmp_path / "s.log", env=env) as server:
            with engine.begin() as conn:  # the grant cannot be written
                conn.execute(text("DROP TABLE monitor_logins"))
            answers = [
                httpx.post(f"{server.base_url}/monitorAPI/Login/Token", json={"token": made.token})
                for _ in range(2)
            ]
    finally:
        engine.dispose()
    for answer in answers:  # the second is not blocked: the first was no failure
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert (body["StatusCode"], body["Status"], body["Data"]) == (
            503,
            "Service Unavailable",
            None,
        )
        assert "database" in body["error"]
        assert "Traceback" not in answer.text
        assert int(answer.headers["retry-after"]) >= 1


def test_an_unexpected_failure_is_503_without_a_trace(
    shared_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug with a secret: ast_do-not-show")

    monkeypatch.setattr(monitor_login, "login_with_token", boom)
    answer = httpx.post(f"{shared_server.base_url}/monitorAPI/Login/Token", json={"token": "ast_x"})
    assert answer.status_code == 503
    assert answer.json() == {
        "StatusCode": 503,
        "Status": "Service Unavailable",
        "error": "the login failed; try again",
        "Data": None,
    }
    assert "ast_do-not-show" not in answer.text
