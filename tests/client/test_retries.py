"""Retries: a real loopback server that answers 503 (or 429) and then OK, the policy's
arithmetic, and ``httpx.MockTransport`` as the seam users test their own code with."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from agentstatus.client import (
    AsyncClient,
    Client,
    ExtensionInUse,
    RateLimited,
    RetryPolicy,
    StatusResult,
    UpdateFailed,
)
from agentstatus.client._retry import parse_retry_after
from tests.client.support import AUTH_FAILED, ERROR_ON_UPDATE, OK, Answer, scripted, twin

FAST = RetryPolicy(retries=3, backoff=0.01)
IN_USE = {"Status": 3, "StatusError": 3, "StatusErroMessage": "Extension is already in use"}


async def test_503_with_retry_after_then_ok(flavour: str) -> None:
    with scripted(Answer(503, ERROR_ON_UPDATE, {"Retry-After": "1"}), OK) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        result = await client.login("1001", "sip1")
        await client.close()
    assert result == StatusResult(1, 1, "OK")
    assert result.ok
    first, second = server.received
    assert second.at - first.at >= 1.0  # Retry-After honoured
    assert first.body == second.body  # the same request, sent again
    assert json.loads(first.body)["Status"] == 1


async def test_429_with_retry_after_then_ok(flavour: str) -> None:
    with scripted(Answer(429, AUTH_FAILED, {"Retry-After": "0"}), OK) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        assert (await client.logout("1001", "sip1")).ok
        await client.close()
    assert len(server.received) == 2


async def test_retry_after_as_an_http_date(flavour: str) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    with scripted(Answer(503, ERROR_ON_UPDATE, {"Retry-After": when}), OK) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        assert (await client.login("1001", "sip1")).ok
        await client.close()
    assert len(server.received) == 2


async def test_503_without_retry_after_backs_off(flavour: str) -> None:
    with scripted(Answer(503, None), Answer(502, None), OK) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        assert (await client.login("1001", "sip1")).ok
        await client.close()
    assert len(server.received) == 3


async def test_503_every_time_gives_up_with_update_failed(flavour: str) -> None:
    with scripted(Answer(503, ERROR_ON_UPDATE, {"Retry-After": "0"})) as server:
        client = twin(flavour, "code", server.base_url, retries=RetryPolicy(2, backoff=0.01))
        with pytest.raises(UpdateFailed) as caught:
            await client.login("1001", "sip1")
        await client.close()
    assert len(server.received) == 3
    assert caught.value.status_error == 4


async def test_a_long_retry_after_is_not_waited_for(flavour: str) -> None:
    with scripted(Answer(429, AUTH_FAILED, {"Retry-After": "120"})) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        started = time.monotonic()
        with pytest.raises(RateLimited) as caught:
            await client.login("1001", "sip1")
        await client.close()
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 120
    assert len(server.received) == 1


async def test_refusals_are_not_retried(flavour: str) -> None:
    with scripted(Answer(200, IN_USE)) as server:
        client = twin(flavour, "code", server.base_url, retries=FAST)
        with pytest.raises(ExtensionInUse):
            await client.login("1001", "sip1")
        await client.close()
    assert len(server.received) == 1


async def test_retries_zero_sends_once(flavour: str) -> None:
    with scripted(Answer(503, ERROR_ON_UPDATE, {"Retry-After": "0"}), OK) as server:
        client = twin(flavour, "code", server.base_url, retries=0)
        with pytest.raises(UpdateFailed):
            await client.login("1001", "sip1")
        await client.close()
    assert len(server.received) == 1


def test_mock_transport_sync() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(503, json=ERROR_ON_UPDATE, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"})

    with Client("code", transport=httpx.MockTransport(answer), retries=FAST) as client:
        assert client.login("1001", "sip1").ok
    assert len(seen) == 2
    assert seen[0].url == "https://api.voicenter.com/UserLogin/SetStatusFromAPI"
    assert json.loads(seen[0].content) == {
        "Code": "code",
        "UserId": "1001",
        "ExtensionUser": "sip1",
        "Status": 1,
    }


async def test_mock_transport_async() -> None:
    calls = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"})

    async with AsyncClient("code", transport=httpx.MockTransport(answer), retries=FAST) as client:
        assert (await client.logout("1001", "sip1")).ok
    assert calls == 2


def test_get_sends_query_parameters() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"Statuses": []})

    with Client("code", "http://x/", method="get", transport=httpx.MockTransport(answer)) as c:
        assert c.statuses() == []
    assert seen[0].method == "GET"
    assert seen[0].url == "http://x/UserLogin/GetStatusesList?code=code"


# -- the policy's arithmetic -------------------------------------------------------------


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_backoff=4.0)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0), (9, 4.0)]:
        delays = {policy.delay(retry) for _ in range(50)}
        assert all(d is not None and ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter
    assert policy.delay(11) is None


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(retries=3, max_retry_after=10)
    delay = policy.delay(1, retry_after=2)
    assert delay is not None
    assert 2 <= delay <= 2.2
    assert policy.delay(1, retry_after=11) is None
    assert policy.delay(4, retry_after=1) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("7", 7.0), (" 0 ", 0.0), ("soon", None), ("-1", None), ("1.5", None)],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_date() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 30
    assert parse_retry_after(format_datetime(now, usegmt=True), now=now.timestamp() + 5) == 0


def test_policy_rejects_negatives() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(retries=-1)
