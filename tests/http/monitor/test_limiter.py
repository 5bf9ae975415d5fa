"""Failed monitor logins count in the failed-authentication limiter, as wrong Codes and
sign-ins do: past the allowance the address is answered 429 with Retry-After, in the SDK's
shape, even with right credentials. Each run on a new database: on PostgreSQL the counts
are shared through it."""

from __future__ import annotations

from pathlib import Path

import httpx

from agentstatus.app import open_database
from agentstatus.service.tokens import Role, create_token
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer


def test_failed_logins_are_limited_per_address(any_database_url: str, tmp_path: Path) -> None:
    engine = open_database(any_database_url)
    try:
        made = create_token(engine, Role.SUPERVISOR, make_org(engine).name)
    finally:
        engine.dispose()
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "3"}
    with InProcessServer(any_database_url, tmp_path / "s.log", env=env) as server:
        url = server.base_url
        answers = [
            httpx.post(f"{url}/monitorAPI/Login/Token", json={"token": f"ast_wrong{i}"})
            for i in range(2)
        ]
        refresh = httpx.get(
            f"{url}/monitorAPI/RefreshIdentityToken", headers={"Authorization": "Bearer asr_x"}
        )
        blocked = [
            httpx.post(f"{url}/monitorAPI/Login/Token", json={"token": made.token}),
            httpx.get(f"{url}/monitorAPI/getMonitorUrls/ast_guess"),
        ]
    assert [a.status_code for a in answers] == [401, 401]
    assert refresh.status_code == 401  # the third failure
    for answer in blocked:
        # Blocked even with a right token: the allowance is the address's.
        assert answer.status_code == 429, answer.text
        assert answer.json()["StatusCode"] == 429
        assert answer.json()["error"]
        assert int(answer.headers["retry-after"]) >= 1
