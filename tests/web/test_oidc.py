"""OpenID Connect sign-in without a browser (issue 26): a provider that is down, a callback
with a bad state, the password form turned off (each a page, never a 500, and audited),
and the ID token's checks with the provider's key rotating and a forged key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Engine, text

from agentstatus.settings import load_settings
from agentstatus.web.oidc_provider import OidcProvider, TokenRefused
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess, free_port
from tests.support.web import SAME_ORIGIN

ISSUER_DOWN = f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def sso_server(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        "AGENTSTATUS_OIDC_ISSUER": ISSUER_DOWN,
        "AGENTSTATUS_OIDC_CLIENT_ID": "agentstatus",
        "AGENTSTATUS_OIDC_CLIENT_SECRET": "s3cret-value",
        "AGENTSTATUS_PASSWORD_SIGN_IN": "false",
    }
    with InProcessServer(database_url, tmp_path / "server.log", env=env) as running:
        yield running


def sources(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        query = text("SELECT source FROM audit WHERE endpoint = '/auth/oidc/callback'")
        return [r.source for r in conn.execute(query)]


def test_a_provider_that_is_down_is_a_page_not_a_500(
    sso_server: ServerProcess, engine: Engine
) -> None:
    answer = httpx.get(f"{sso_server.base_url}/auth/oidc/start?next=/o/acme/")
    assert answer.status_code == 503
    assert "The identity provider could not be reached" in answer.text
    assert "s3cret-value" not in answer.text
    assert sources(engine) == ["oidc-provider"]


def test_a_callback_with_an_unknown_state_is_refused(
    sso_server: ServerProcess, engine: Engine
) -> None:
    for query in ("", "?state=made-up&code=abc", "?error=access_denied"):
        answer = httpx.get(f"{sso_server.base_url}/auth/oidc/callback{query}")
        assert answer.status_code == 400
        assert "This sign-in is not valid any more" in answer.text
    assert sources(engine) == ["oidc-state"] * 3


def test_the_password_form_may_be_turned_off(sso_server: ServerProcess) -> None:
    page = httpx.get(f"{sso_server.base_url}/sign-in")
    assert page.status_code == 200
    assert 'type="password"' not in page.text
    assert "Sign in with single sign-on" in page.text
    refused = httpx.post(
        f"{sso_server.base_url}/sign-in",
        data={"email": "a@example.com", "password": "whatever-long-enough"},
        headers=SAME_ORIGIN,
    )
    assert refused.status_code == 403
    assert "Signing in with a password is turned off here." in refused.text


class KeyedProvider(OidcProvider):
    """The provider's JWKS from a list the test changes; counts the fetches."""

    def __init__(self, published: list[RSAKey]) -> None:
        super().__init__(
            load_settings(
                oidc_issuer="https://idp.example.com",
                oidc_client_id="agentstatus",
                oidc_client_secret="s",
            )
        )
        self.published = published
        self.fetches = 0
        self._metadata = {"jwks_uri": "https://idp.example.com/jwks"}

    async def _get_json(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [k.as_dict(private=False) for k in self.published]}


def token(key: RSAKey, kid: str, nonce: str = "n", **more: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://idp.example.com",
        "aud": "agentstatus",
        "sub": "x",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        **more,
    }
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid})


async def test_a_new_key_id_fetches_the_keys_again_and_a_forged_key_is_refused() -> None:
    first, second, forger = rsa("k1"), rsa("k2"), rsa("k1")
    provider = KeyedProvider([first])
    assert (await provider.verify(token(first, "k1"), "n"))["sub"] == "x"
    assert provider.fetches == 1
    provider.published[:] = [second]  # the provider rotated its key
    assert (await provider.verify(token(second, "k2"), "n"))["sub"] == "x"
    assert provider.fetches == 2
    with pytest.raises(TokenRefused):  # a known key id, another key: no fetch helps
        await provider.verify(token(forger, "k2"), "n")
    for bad in (
        token(second, "k2", nonce="other"),
        token(second, "k2", iss="https://evil.example.com"),
        token(second, "k2", aud="someone-else"),
        token(second, "k2", exp=int(time.time()) - 3600),
        token(second, "k2", aud=["agentstatus", "other"]),  # several audiences, no azp
        "not.a.token",
    ):
        with pytest.raises(TokenRefused):
            await provider.verify(bad, "n")
    assert provider.fetches == 2
