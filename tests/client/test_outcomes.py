"""Every answer of ``SetStatusFromAPI`` (SPEC.md 3.1) as the client returns or raises it,
produced by the real server from its real outcome row, with both clients, in-process and
over loopback."""

from __future__ import annotations

import pytest

from agentstatus.client import (
    AgentStatus,
    AgentStatusError,
    AuthorizationFailed,
    ExtensionInUse,
    ExtensionNotFound,
    MissingParameter,
    RetryPolicy,
    StatusNotSupported,
    StatusResult,
    UpdateFailed,
)
from agentstatus.service.organisations import set_allowlist
from agentstatus.service.statuses import update_status
from tests.client.conftest import Api
from tests.support.changes import deactivate_async
from tests.support.compat import db_path, history_refused

OK = StatusResult(1, 1, "OK")


def assert_raw(
    error: AgentStatusError, status: int, status_error: int, message: str, http: int = 200
) -> None:
    assert (error.status, error.status_error, error.message) == (status, status_error, message)
    assert error.http_status == http
    assert error.fields == {
        "Status": status,
        "StatusError": status_error,
        "StatusErroMessage": message,
    }
    assert error.request is not None
    assert error.request.url.path == "/UserLogin/SetStatusFromAPI"


async def test_a_change_is_applied_and_ok(api: Api) -> None:
    org = api.org()
    client = api.connect(org.code)
    result = await client.set_status(org.agents[0], org.extensions[0], AgentStatus.LUNCH_BREAK)
    assert result == OK
    assert result.ok
    (held,) = await client.presence(org.extensions[0])
    assert (held.user_id, held.status) == (org.agents[0], AgentStatus.LUNCH_BREAK)
    assert await client.login(org.agents[0], org.extensions[0]) == OK
    assert await client.set_status(org.agents[0], org.extensions[0], 1) == OK  # idempotent
    assert await client.logout(org.agents[0], org.extensions[0]) == OK
    (freed,) = await client.presence(org.extensions[0])
    assert not freed.logged_in
    assert freed.status == AgentStatus.LOGOUT


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_both_methods_reach_the_server(api: Api, method: str) -> None:
    org = api.org()
    client = api.connect(org.code, method=method)
    assert await client.login(org.agents[0], org.extensions[0]) == OK
    assert [s.id for s in await client.statuses()][:2] == [1, 2]


async def test_row_2_missing_user_is_missing_parameter(api: Api) -> None:
    org = api.org()
    with pytest.raises(MissingParameter, match="user id is missing") as caught:
        await api.connect(org.code).login("", org.extensions[0])
    assert_raw(caught.value, 2, 6, "Authorization Failed")


async def test_row_3_missing_extension_is_missing_parameter(api: Api) -> None:
    org = api.org()
    with pytest.raises(MissingParameter, match="extension is missing") as caught:
        await api.connect(org.code).login(org.agents[0], " ")
    assert_raw(caught.value, 3, 6, "No extension found")


async def test_row_4_missing_status_is_missing_parameter(api: Api) -> None:
    org = api.org()
    with pytest.raises(MissingParameter, match="status is missing") as caught:
        await api.connect(org.code).set_status(org.agents[0], org.extensions[0], "")
    assert_raw(caught.value, 4, 6, "Status not support")


async def test_no_code_at_all_is_missing_parameter(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTSTATUS_CODE", raising=False)
    monkeypatch.delenv("VOICENTER_API_CODE", raising=False)
    with pytest.raises(MissingParameter, match="AGENTSTATUS_CODE"):
        api.connect(None)


async def test_the_code_comes_from_the_environment(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, other = api.org(), api.org()
    monkeypatch.setenv("VOICENTER_API_CODE", other.code)
    assert await api.connect(None).login(other.agents[0], other.extensions[0]) == OK
    monkeypatch.setenv("AGENTSTATUS_CODE", org.code)  # first in line
    assert await api.connect(None).login(org.agents[0], org.extensions[0]) == OK


@pytest.mark.parametrize("who", ["wrong code", "unknown user", "inactive user"])
async def test_row_6_is_authorization_failed(api: Api, who: str) -> None:
    org = api.org()
    code, user = org.code, org.agents[0]
    if who == "wrong code":
        code = "not-" + code
    elif who == "unknown user":
        user = "999999"
    else:
        await deactivate_async(api.engine, org.name, user)
    with pytest.raises(AuthorizationFailed, match="matches no organisation") as caught:
        await api.connect(code).login(user, org.extensions[0])
    assert_raw(caught.value, 2, 0, "Authorization Failed")


async def test_row_7_address_not_allowed_is_authorization_failed(api: Api) -> None:
    org = api.org()
    set_allowlist(api.engine, org.name, ["10.0.0.0/8"])
    client = api.connect(org.code)
    with pytest.raises(AuthorizationFailed, match="allow-list") as caught:
        await client.login(org.agents[0], org.extensions[0])
    assert_raw(caught.value, 2, 0, "Authorization Failed", http=403)
    with pytest.raises(AuthorizationFailed, match="allow-list"):
        await client.statuses()
    with pytest.raises(AuthorizationFailed, match="allow-list") as comet:
        await client.presence()
    assert (comet.value.http_status, comet.value.message) == (403, "Unauthorized")


async def test_row_8_is_extension_not_found(api: Api) -> None:
    org = api.org()
    with pytest.raises(ExtensionNotFound, match="'nope' is not an extension") as caught:
        await api.connect(org.code).login(org.agents[0], "nope")
    assert_raw(caught.value, 3, 3, "No extension found")


@pytest.mark.parametrize("status", [4, 99, AgentStatus.TRAINING])
async def test_row_9_is_status_not_supported(api: Api, status: int) -> None:
    org = api.org()
    update_status(api.engine, org.name, AgentStatus.TRAINING, enabled=False)
    with pytest.raises(StatusNotSupported, match=f"status {int(status)} is not") as caught:
        await api.connect(org.code).set_status(org.agents[0], org.extensions[0], status)
    assert_raw(caught.value, 4, 0, "Status not support")


async def test_row_10_is_extension_in_use(api: Api) -> None:
    org = api.org()
    client = api.connect(org.code)
    await client.login(org.agents[0], org.extensions[0])
    with pytest.raises(ExtensionInUse, match="already in use") as caught:
        await client.set_status(org.agents[1], org.extensions[0], AgentStatus.LOGIN)
    assert_raw(caught.value, 3, 3, "Extension is already in use")
    # The documented way out: log the holder out, then try again.
    await client.logout(org.agents[0], org.extensions[0])
    assert await client.login(org.agents[1], org.extensions[0]) == OK


async def test_row_11_is_update_failed_after_the_retries(api: Api) -> None:
    org = api.org()
    client = api.connect(org.code, retries=RetryPolicy(retries=1, backoff=0.01))
    refused = history_refused(db_path(api.database_url), org.name)
    with refused, pytest.raises(UpdateFailed, match="safe") as caught:
        await client.login(org.agents[0], org.extensions[0])
    assert_raw(caught.value, 0, 4, "Error on update", http=503)
    assert await client.login(org.agents[0], org.extensions[0]) == OK
