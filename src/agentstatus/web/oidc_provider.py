"""The OpenID provider as this service's client sees it (issue 26): its discovery document,
the authorisation URL (code flow, PKCE S256, state, nonce), the code exchanged for tokens
(authlib's httpx client) and the ID token verified with joserfc (authlib's JOSE library):
signature by the provider's JWKS, issuer, audience, expiry, nonce.

The JWKS is fetched once and again when a token names a key id it does not hold: that is
how a provider's key rotation looks from here. A token whose key id is known but whose
signature does not verify is refused without a fetch (it was signed by another key).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import authlib.deprecate  # noqa: F401 (its filters first, so that ours below win)
import httpx

# authlib 1.9 prefers the httpx2 fork and warns once, on import, when it falls back to
# httpx; httpx is this project's client (pinned), which authlib still supports fully.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from agentstatus.service.oidc_sign_in import Started
from agentstatus.settings import Settings
from agentstatus.storage.oidc_states import PendingSignIn

TIMEOUT_SECONDS = 10.0
SCOPE = "openid email"
# Asymmetric algorithms only: an HS256 token would be signed with the client secret, which
# a provider must not do for a confidential client's ID token here.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_SECONDS = 60
MAX_BODY = 1 << 20


class ProviderDown(Exception):
    """The provider could not be reached or answered with something unusable."""


class TokenRefused(Exception):
    """The ID token is not one to trust: forged, expired, for another client or nonce."""


class OidcProvider:
    """One configured provider; the discovery document and keys are cached."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer
        assert settings.oidc_client_id
        assert settings.oidc_client_secret is not None
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret
        self.name = settings.oidc_name
        self.role_claim = settings.oidc_role_claim
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            self.client_id,
            self._secret.get_secret_value(),
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_SECONDS,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                answer = await client.get(url, headers={"accept": "application/json"})
                answer.raise_for_status()
                if len(answer.content) > MAX_BODY:
                    raise ProviderDown("too large")
                body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderDown(type(exc).__name__) from None
        if not isinstance(body, dict):
            raise ProviderDown("not an object")
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, checked to be this issuer's."""
        if self._metadata is None:
            found = await self._get_json(self.issuer + "/.well-known/openid-configuration")
            if found.get("issuer") != self.issuer:
                raise ProviderDown("the discovery document names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(key), str):
                    raise ProviderDown(f"no {key}")
            self._metadata = found
        return self._metadata

    async def authorization_url(self, redirect_uri: str, started: Started) -> str:
        meta = await self.metadata()
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"],
                state=started.state,
                nonce=started.nonce,
                code_verifier=started.verifier,
            )
        return str(url)

    async def claims(self, code: str, redirect_uri: str, pending: PendingSignIn) -> dict[str, Any]:
        """The code exchanged for tokens, and the verified ID token's claims."""
        meta = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=pending.verifier
                )
        except Exception as exc:  # authlib's OAuthError, httpx's errors, a bad body
            raise ProviderDown(type(exc).__name__) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderDown("no id_token")
        return await self.verify(id_token, pending.nonce)

    async def _key_set(self, kid: str | None) -> KeySet:
        async with self._lock:
            if self._keys is None or not self._holds(self._keys, kid):
                meta = await self.metadata()
                try:
                    self._keys = KeySet.import_key_set(await self._get_json(meta["jwks_uri"]))  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError):
                    raise ProviderDown("unusable JWKS") from None
            return self._keys

    @staticmethod
    def _holds(keys: KeySet, kid: str | None) -> bool:
        return kid is None or any(key.kid == kid for key in keys.keys)

    async def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError):
            raise TokenRefused("unreadable") from None
        kid = header.get("kid")
        keys = await self._key_set(kid if isinstance(kid, str) else None)
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise TokenRefused(type(exc).__name__) from None
        claims = dict(token.claims)
        audience = claims.get("aud")
        # Several audiences: the token must have been issued to us (OIDC Core 3.1.3.7).
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise TokenRefused("azp")
        return claims
