"""What the client and the server share through ``wire``: one catalogue, one redaction rule,
one backoff formula."""

from __future__ import annotations

import random

import pytest

from agentstatus.client import AgentStatus
from agentstatus.domain.catalogue import DEFAULT_CATALOGUE, LOGIN, LOGOUT
from agentstatus.events.delivery import DeliveryPolicy
from agentstatus.wire.backoff import backoff, jitter
from agentstatus.wire.redaction import REDACTED, is_secret, shown


def test_the_client_names_every_status_of_the_servers_default_catalogue() -> None:
    assert [s.id for s in DEFAULT_CATALOGUE] == [s.value for s in AgentStatus]
    assert (LOGIN, LOGOUT) == (AgentStatus.LOGIN, AgentStatus.LOGOUT)
    # Plain ints, for the databases and JSON.
    assert all(type(s.id) is int for s in DEFAULT_CATALOGUE)


@pytest.mark.parametrize("name", ["Code", "code", " CODE ", "cOdE"])
def test_the_code_is_secret_in_any_spelling(name: str) -> None:
    assert is_secret(name)
    assert shown(name, "s3cret") == REDACTED


@pytest.mark.parametrize("name", ["UserId", "codes", "Status", "ExtensionUser"])
def test_other_parameters_are_shown(name: str) -> None:
    assert shown(name, 7) == 7


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    rng = random.Random(22)
    random.seed(22)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 8.0), (30, 8.0)]:
        delay = backoff(attempt, 0.5, 8.0)
        assert ceiling / 2 <= delay <= ceiling
        assert delay == pytest.approx(ceiling * rng.uniform(0.5, 1.0))


def test_jitter_stays_within_its_factors() -> None:
    delays = [jitter(10.0, 0.5, 1.5) for _ in range(500)]
    assert min(delays) >= 5.0
    assert max(delays) <= 15.0


def test_the_webhook_policy_backs_off_from_its_base_to_its_cap() -> None:
    policy = DeliveryPolicy(retry_base_seconds=5.0, retry_max_seconds=3600.0)
    for attempts, delay in [(0, 5.0), (1, 5.0), (2, 10.0), (4, 40.0), (40, 3600.0)]:
        assert 0.5 * delay <= policy.backoff(attempts) <= 1.5 * delay
