"""The Code never shows: not in an exception's text, ``repr`` or traceback, not in the
request it carries, not in the client's ``repr``, and not in any log line — the client's,
httpx's and httpcore's at DEBUG, and the in-process server's — with POST and with GET."""

from __future__ import annotations

import json
import logging
import traceback

import pytest

from agentstatus.client import AgentStatusError, RetryPolicy
from agentstatus.service.organisations import set_allowlist
from tests.client.conftest import Api
from tests.client.support import AUTH_FAILED, Answer, Twin, scripted, twin
from tests.support.compat import db_path, history_refused
from tests.support.server import free_port

# Every log line of this process is searched for the Code: the server runs in its own.
pytestmark = pytest.mark.server_process


def assert_secret_kept(code: str, error: AgentStatusError) -> None:
    shown = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        json.dumps(dict(error.fields)),
    ]
    if error.request is not None:
        shown += [
            str(error.request.url),
            repr(error.request),
            error.request.content.decode(),
            repr(error.request.headers),
        ]
    for text in shown:
        assert code not in text, text
    if error.request is not None:
        sent = json.loads(error.request.content or b"{}") | dict(error.request.url.params)
        assert sent.get("Code", sent.get("code")) == "[redacted]", sent


async def collect(call: object) -> AgentStatusError:
    try:
        await call  # type: ignore[misc]
    except AgentStatusError as exc:
        return exc
    raise AssertionError("expected an AgentStatusError")


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_the_code_is_never_shown(
    api: Api, method: str, flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    org, walled = api.org(), api.org()
    set_allowlist(api.engine, walled.name, ["10.0.0.0/8"])
    client = api.connect(org.code, method=method, retries=RetryPolicy(1, backoff=0.01))
    assert org.code not in repr(client.client)
    assert "base_url=" in repr(client.client)

    await client.login(org.agents[0], org.extensions[0])
    await client.statuses()
    await client.extensions()
    await client.presence()
    errors = [
        await collect(client.login("999999", org.extensions[0])),
        await collect(client.login("", org.extensions[0])),
        await collect(client.login(org.agents[1], "nope")),
        await collect(client.login(org.agents[1], org.extensions[0])),
        await collect(client.set_status(org.agents[1], org.extensions[1], 4)),
        await collect(api.connect(walled.code, method=method).presence()),
        await collect(api.connect(walled.code, method=method).login(walled.agents[0], "sip1")),
    ]
    with history_refused(db_path(api.database_url), org.name):
        errors.append(await collect(client.login(org.agents[2], org.extensions[2])))
    nowhere = twin(flavour, org.code, f"http://127.0.0.1:{free_port()}", method=method, retries=0)
    errors.append(await collect(nowhere.statuses()))
    await nowhere.close()
    with scripted(Answer(429, AUTH_FAILED, {"Retry-After": "600"})) as limiter:
        limited: Twin = twin(flavour, org.code, limiter.base_url, method=method)
        errors.append(await collect(limited.login("1", "sip1")))
        await limited.close()

    kinds = {type(e).__name__ for e in errors}
    assert kinds == {
        "AuthorizationFailed",
        "MissingParameter",
        "ExtensionNotFound",
        "ExtensionInUse",
        "StatusNotSupported",
        "UpdateFailed",
        "TransportError",
        "RateLimited",
    }
    for error in errors:
        assert_secret_kept(org.code, error)
        assert_secret_kept(walled.code, error)

    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("retrying") for m in messages)  # the client's own log line
    assert any(m.startswith("HTTP Request") for m in messages)  # httpx's
    for secret in (org.code, walled.code):
        assert secret not in caplog.text
        assert not [m for m in messages if secret in m]
    if method == "GET":
        assert any("code=%5bredacted%5d" in m.lower() for m in messages)
