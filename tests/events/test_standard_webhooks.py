"""Standard Webhooks: the secret's forms, and one delivery attempted twice — as the
``standardwebhooks`` library (a receiver's) sees it."""

from __future__ import annotations

import asyncio
import base64
import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from standardwebhooks import Webhook, WebhookVerificationError

from agentstatus.domain.clock import now_ms
from agentstatus.domain.secret_box import SecretBox
from agentstatus.domain.webhook_secret import new_secret, standard_key, standard_secret
from agentstatus.events import delivery, signing
from agentstatus.outbound import outbound_client
from tests.support.receiver import LOOPBACK, Received, Receiver

# Made before secrets were in the standard form: whsec_ + URL-safe base64 ("-" and "_").
OLD_GENERATED = "whsec_Zq-3_kT9xLwA0pRv7yB2nC4dE6fG8hJ1kL3mN5oP7qR"
CHOSEN = "the-crm-team's own secret"


def test_new_secrets_are_whsec_base64_of_32_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert standard_secret(secret) == secret
    assert standard_key(secret) == base64.b64decode(secret.removeprefix("whsec_"))
    assert new_secret() != secret


@pytest.mark.parametrize(
    "secret",
    [
        OLD_GENERATED,
        CHOSEN,
        "whsec_",
        "whsec_QUJDRB==",  # not canonical: the bits after the last byte are not zero
        "whsec_QUJD=",  # not a whole number of groups of four
        "whsec_QUJDRA",  # unpadded
        "whsec_QUJD RA==",  # not the base64 alphabet
    ],
)
def test_any_other_secret_is_keyed_by_its_text(secret: str) -> None:
    """Its key is the secret's text (today's signature's key too), presented as
    whsec_ + base64 of that text — the rule the docs give a receiver."""
    assert standard_key(secret) == secret.encode()
    assert standard_secret(secret) == "whsec_" + base64.b64encode(secret.encode()).decode()


def test_a_canonical_whsec_secret_is_taken_as_it_is() -> None:
    assert standard_key("whsec_QUJDRA==") == b"ABCD"
    assert standard_secret("whsec_QUJDRA==") == "whsec_QUJDRA=="


def _attempt_twice(secret: str) -> list[Received]:
    """One delivery attempted twice (a retry), in two different seconds."""
    box = SecretBox(Fernet.generate_key())
    with Receiver(secret=secret, contract=False) as receiver:
        claimed = delivery.Claimed(
            41,
            1,
            receiver.url,
            box.seal(secret),
            "webhook.test",
            "test-1",
            b'{"a": 1}',
            0,
            now_ms(),
        )

        async def attempt() -> None:
            async with outbound_client(LOOPBACK, 10) as client:
                code, error = await delivery.attempt(client, box, claimed, LOOPBACK, 10)
            assert (code, error) == (200, None)

        asyncio.run(attempt())
        first_second = int(time.time())
        while int(time.time()) == first_second:  # until the clock's second turns
            time.sleep(0.01)
        asyncio.run(attempt())
        return receiver.wait_for(2)


def test_a_retry_keeps_the_id_and_changes_the_timestamp() -> None:
    secret = new_secret()
    first, second = _attempt_twice(secret)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-id"].startswith("msg_41_")
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    for got in (first, second):
        assert Webhook(secret).verify(got.body, got.headers) == {"a": 1}
        # The Standard Webhooks timestamp is today's.
        assert got.headers["webhook-timestamp"] == got.headers[signing.TIMESTAMP_HEADER]


def test_a_tampered_delivery_fails_verification() -> None:
    secret = new_secret()
    got, _ = _attempt_twice(secret)
    webhook = Webhook(secret)
    with pytest.raises(WebhookVerificationError):
        webhook.verify(b'{"a": 2}', got.headers)
    other_id = {**got.headers, "webhook-id": "msg_42_0"}
    with pytest.raises(WebhookVerificationError):
        webhook.verify(got.body, other_id)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)


@pytest.mark.parametrize("secret", [OLD_GENERATED, CHOSEN])
def test_an_old_secret_verifies_in_its_whsec_form_and_as_before(secret: str) -> None:
    got, _ = _attempt_twice(secret)
    # What the docs tell the receiver to do with a secret that is not whsec_ + base64.
    whsec = "whsec_" + base64.b64encode(secret.encode()).decode()
    assert Webhook(whsec).verify(got.body, got.headers) == {"a": 1}
    assert signing.verify(
        secret,
        got.headers[signing.TIMESTAMP_HEADER],
        got.body,
        got.headers[signing.SIGNATURE_HEADER],
        now=int(time.time()),
    )


def _docs_receiver(secret: str) -> Callable[[bytes, dict[str, str]], Any]:
    """The five lines of docs/events-and-webhooks.md, with the secret in place."""
    page = (Path(__file__).parents[2] / "docs" / "events-and-webhooks.md").read_text()
    (block,) = re.findall(
        r"```python\n( *from standardwebhooks import Webhook\n.*?) *```", page, re.S
    )
    code = textwrap.dedent(block)
    assert len(code.strip().splitlines()) == 5
    namespace: dict[str, Any] = {}
    exec(code.replace('"whsec_..."', repr(secret)), namespace)  # noqa: S102 (our own docs)
    receive: Callable[[bytes, dict[str, str]], Any] = namespace["receive"]
    return receive


def test_the_docs_receiver_verifies_a_delivery() -> None:
    secret = new_secret()
    got, _ = _attempt_twice(secret)
    receive = _docs_receiver(secret)
    assert receive(got.body, got.headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):
        receive(got.body + b" ", got.headers)
