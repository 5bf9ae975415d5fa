"""Configuration: one pydantic-settings class, read from ``AGENTSTATUS_*`` variables by the
server and the CLI alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
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

    public_url: str | None = Field(
        None,
        description="the address browsers reach the service at (https://status.example.com); "
        "panel links are made with it, else with the request's own host",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("use an absolute http:// or https:// URL without a query")
        return value.strip().rstrip("/")

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
        name = env_var("_".join(str(part) for part in first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid {name}: {message}") from None
