"""The read endpoints: ``statuses()`` (GetStatusesList), ``extensions()`` (GetExtensions)
and ``presence()`` (GetExtensionsCalls), against the real server."""

from __future__ import annotations

import pytest

from agentstatus.client import AgentStatus, AuthorizationFailed, Extension, Status
from agentstatus.service.statuses import update_status
from tests.client.conftest import Api


async def test_statuses_are_the_default_catalogue(api: Api) -> None:
    org = api.org()
    found = await api.connect(org.code).statuses()
    assert [s.id for s in found] == [int(s) for s in AgentStatus]
    assert found[0] == Status(1, "Login", "#2ecc71")
    assert found[2].name == "Lunch break"
    assert found[2].raw == {"ID": 3, "Name": "Lunch break", "Color": "#f39c12"}


async def test_disabled_and_renamed_statuses_show(api: Api) -> None:
    org = api.org()
    update_status(api.engine, org.name, AgentStatus.TRAINING, enabled=False)
    update_status(api.engine, org.name, AgentStatus.LUNCH_BREAK, name="Pause repas")
    found = {s.id: s.name for s in await api.connect(org.code).statuses()}
    assert AgentStatus.TRAINING not in found
    assert found[AgentStatus.LUNCH_BREAK] == "Pause repas"


async def test_extensions(api: Api) -> None:
    org = api.org(extension_count=2)
    found = await api.connect(org.code).extensions()
    assert found == [Extension("sip1", "Desk 1"), Extension("sip2", "Desk 2")]
    assert found[0].raw == {"SIP": "sip1", "Name": "Desk 1", "peerStatus": None}
    assert found[0].phone is None  # no phone system: unknown


async def test_presence(api: Api) -> None:
    org = api.org(extension_count=2)
    client = api.connect(org.code)
    await client.set_status(org.agents[1], "sip2", AgentStatus.SUMMARY)
    first, second = await client.presence()
    assert (first.extension, first.name, first.user_id, first.status) == (
        "sip1",
        "Desk 1",
        None,
        AgentStatus.LOGOUT,
    )
    assert (second.extension, second.user_id, second.status) == ("sip2", org.agents[1], 13)
    assert second.logged_in
    assert second.calls == ()
    assert second.raw["onlineUserID"] == int(org.agents[1])
    assert [p.extension for p in await client.presence("sip2")] == ["sip2"]


@pytest.mark.parametrize("read", ["statuses", "extensions", "presence"])
async def test_a_wrong_code_is_authorization_failed(api: Api, read: str) -> None:
    client = api.connect("no-such-code")
    with pytest.raises(AuthorizationFailed, match="matches no organisation") as caught:
        await getattr(client, read)()
    error = caught.value
    assert error.http_status == 200
    if read == "statuses":
        assert (error.status, error.status_error, error.message) == (2, 0, "Authorization Failed")
    else:
        assert error.fields == {"ERR": 1, "DESC": "Unauthorized"}
        assert (error.status, error.status_error, error.message) == (None, None, "Unauthorized")
