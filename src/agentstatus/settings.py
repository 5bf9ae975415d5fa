"""Configuration: one pydantic-settings class, read from ``AGENTSTATUS_*`` variables by the
server and the CLI alike."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentstatus.domain.addresses import AddressError, Network, parse_network
from agentstatus.domain.secret_box import MALFORMED_KEY, SecretBox, SecretKeyError
from agentstatus.outbound.policy import OutboundPolicy
from agentstatus.storage.database import DEFAULT_DATABASE_URL

ENV_PREFIX = "AGENTSTATUS_"
# uvicorn's names; checked here so that every command, not only serve, refuses a bad one.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class Settings(BaseSettings):
    # An empty variable means the default, as it did when click read the variables.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="sqlite:///relative.db, sqlite:////abs.db"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or CIDR ranges allowed to set X-Forwarded-For"
    )
    auth_failures_per_minute: int = Field(20, ge=0, description="0 turns the limiter off")
    database_timeout_seconds: float = Field(
        5.0, gt=0, description="longest a status change waits for PostgreSQL before row 11"
    )
    access_log: bool = True
    log_level: str = Field("info", description=", ".join(LOG_LEVELS) + " (any case)")
    secret_key: str | None = Field(
        None,
        repr=False,
        description="Fernet key that encrypts webhook secrets; required on PostgreSQL, "
        "defaults to a key file beside an SQLite database",
    )
    webhook_retry_base_seconds: float = Field(5.0, gt=0)
    webhook_give_up_after_seconds: float = Field(24 * 3600.0, gt=0)
    webhook_lease_seconds: float = Field(30.0, gt=0)
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="the whole of one attempt: connecting, sending, the answer"
    )
    outbound_allowed_networks: str = Field(
        "",
        description="comma-separated CIDR ranges outbound requests may reach besides public "
        "addresses (e.g. a LAN, or 127.0.0.0/8 in tests)",
    )
    head_timeout_seconds: float = Field(
        10.0, gt=0, description="a connection must send each request head within this time"
    )
    events_poll_seconds: float = Field(
        0.5, gt=0, description="how often a feed looks for changes no wake-up announced"
    )
    events_keepalive_seconds: float = Field(
        15.0, gt=0, description="a quiet event stream gets a comment line this often"
    )
    session_idle_seconds: float = Field(
        8 * 3600.0, gt=0, description="a web session not used for this long is signed out"
    )
    events_buffer: int = Field(
        1000, ge=1, description="events a subscriber may fall behind before it is dropped"
    )
    events_streams_per_token: int = Field(
        16, ge=0, description="event streams one token may have open per instance (0: no cap)"
    )
    pbx_lease_seconds: float = Field(
        20.0,
        ge=1,
        le=300,
        description="how long an instance holds an organisation's phone-system connection "
        "without renewing it; another instance takes over within about 1.25 times this",
    )
    pbx_timeout_seconds: float = Field(
        5.0, gt=0, le=120, description="a phone system's answer to one command waits this long"
    )
    monitor_token_seconds: int = Field(
        3600,
        ge=60,
        le=86400,
        description="how long a Voicenter monitor login's socket token lasts (60 s to a day)",
    )
    monitor_refresh_seconds: int = Field(
        30 * 86400,
        ge=60,
        le=365 * 86400,
        description="how long its refresh token lasts (at least the socket token's lifetime, "
        "at most a year); each refresh makes a new one",
    )

    public_url: str | None = Field(
        None,
        description="the address browsers reach the service at (https://status.example.com); "
        "panel links are made with it, else with the request's own host",
    )

    oidc_issuer: str | None = Field(
        None,
        description="the OpenID provider (https://login.example.com/realms/acme): turns on "
        "'Sign in with ...'; http:// only on a loopback address",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = Field(None, repr=False)
    oidc_client_secret_file: Path | None = Field(
        None, description="a file holding the client secret (instead of the variable)"
    )
    oidc_role_claim: str | None = Field(
        None,
        description="a claim naming role and organisation (supervisor:acme, admin:*): "
        "signs in, and creates, users agentstatus does not know",
    )
    oidc_name: str = Field("single sign-on", max_length=64, description="the button's name")
    password_sign_in: bool = Field(True, description="false hides the password form")

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("use an absolute https:// URL without a query")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError(
                "an http:// issuer is accepted only on a loopback address; use https://"
            )
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        # Reported under the variable that is missing; never with the secret's value.
        if self.oidc_issuer is None:
            if not self.password_sign_in:
                raise _at("password_sign_in", "false needs AGENTSTATUS_OIDC_ISSUER")
            return self
        if not self.oidc_client_id:
            raise _at("oidc_client_id", "required with AGENTSTATUS_OIDC_ISSUER")
        if self.oidc_client_secret_file is not None:
            if self.oidc_client_secret is not None:
                raise _at("oidc_client_secret", "set it or ..._SECRET_FILE, not both")
            try:
                read = self.oidc_client_secret_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                raise _at("oidc_client_secret_file", "cannot be read") from None
            self.oidc_client_secret = SecretStr(read)
        if self.oidc_client_secret is None or not self.oidc_client_secret.get_secret_value():
            raise _at("oidc_client_secret", "required with AGENTSTATUS_OIDC_ISSUER")
        return self

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("use an absolute http:// or https:// URL without a query")
        return value.strip().rstrip("/")

    @field_validator("monitor_refresh_seconds")
    @classmethod
    def _refresh_outlasts_token(cls, value: int, info: ValidationInfo) -> int:
        token = info.data.get("monitor_token_seconds")
        if token is not None and value < token:
            raise ValueError("must be at least AGENTSTATUS_MONITOR_TOKEN_SECONDS")
        return value

    @field_validator("trusted_proxies", "outbound_allowed_networks")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        try:
            [parse_network(p) for p in value.split(",") if p.strip()]
        except AddressError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError("use one of " + ", ".join(LOG_LEVELS))
        return value.lower()

    @field_validator("secret_key")
    @classmethod
    def _usable_secret_key(cls, value: str | None) -> str | None:
        # A malformed key is refused at start, not on the first webhook request.
        if value is not None:
            try:
                SecretBox(value)
            except SecretKeyError:
                raise ValueError(MALFORMED_KEY) from None
        return value

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return tuple(parse_network(p) for p in self.trusted_proxies.split(",") if p.strip())

    def outbound_policy(self) -> OutboundPolicy:
        return OutboundPolicy.from_setting(self.outbound_allowed_networks)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _FieldError(ValueError):
    """A check across fields, reported under the field it names."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _at(field: str, message: str) -> _FieldError:
    return _FieldError(field, message)


class SettingsError(ValueError):
    """An ``AGENTSTATUS_*`` variable is invalid; the message names it, never its value."""


def env_var(field: str) -> str:
    """The variable that sets a field of ``Settings``."""
    return ENV_PREFIX + field.upper()


def load_settings(**overrides: Any) -> Settings:
    """``Settings`` from the environment, ``overrides`` winning; a bad variable becomes a
    ``SettingsError`` of one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        loc = (cause.field,) if isinstance(cause, _FieldError) else first["loc"]
        name = env_var("_".join(str(part) for part in loc))
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid {name}: {message}") from None
