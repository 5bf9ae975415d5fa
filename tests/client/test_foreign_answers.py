"""Answers the local server never gives but another Voicenter-compatible service may
(Voicenter documents ``"Authorization failed."`` on GetExtensionsCalls): each is still read
through the shared outcomes table and Comet shapes, never by a substring."""

from __future__ import annotations

import httpx
import pytest

from agentstatus.client import (
    AgentStatusError,
    AuthorizationFailed,
    Client,
    ExtensionInUse,
    ExtensionNotFound,
    UpdateFailed,
)


def answering(status: int, body: dict[str, object]) -> Client:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return Client("code", "http://voicenter.test", transport=transport, retries=0)


@pytest.mark.parametrize("description", ["Unauthorized", "Authorization failed."])
def test_a_comet_err_1_is_authorization_failed(description: str) -> None:
    client = answering(200, {"ERR": 1, "DESC": description})
    with client, pytest.raises(AuthorizationFailed) as caught:
        client.presence()
    assert caught.value.message == description


def test_another_comet_err_is_a_refusal_in_the_servers_words() -> None:
    client = answering(200, {"ERR": 2, "DESC": "Internal error."})
    with client, pytest.raises(AgentStatusError, match="request: Internal error") as got:
        client.extensions()
    assert type(got.value) is AgentStatusError


def test_the_in_use_message_is_matched_whole_case_aside() -> None:
    shouted = {"Status": 3, "StatusError": 3, "StatusErroMessage": "EXTENSION IS ALREADY IN USE "}
    with answering(200, shouted) as client, pytest.raises(ExtensionInUse):
        client.login("1001", "sip1")
    garbled = {**shouted, "StatusErroMessage": "sorry, in use"}
    with answering(200, garbled) as client, pytest.raises(ExtensionNotFound):
        client.login("1001", "sip1")


def test_error_on_update_with_http_200_is_still_update_failed() -> None:
    failed = {"Status": 0, "StatusError": 4, "StatusErroMessage": "Error on update"}
    with answering(200, failed) as client, pytest.raises(UpdateFailed, match="safe"):
        client.login("1001", "sip1")
