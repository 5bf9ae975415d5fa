"""Configuration: one pydantic-settings class, read from ``AGENTSTATUS_*`` variables."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agentstatus.domain.addresses import AddressError, Network, parse_network
from agentstatus.storage.database import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTSTATUS_", extra="ignore")

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
    log_level: str = "info"
    secret_key: str | None = Field(
        None,
        description="Fernet key that encrypts webhook secrets; required on PostgreSQL, "
        "defaults to a key file beside an SQLite database",
    )
    webhook_retry_base_seconds: float = Field(5.0, gt=0)
    webhook_give_up_after_seconds: float = Field(24 * 3600.0, gt=0)
    webhook_lease_seconds: float = Field(30.0, gt=0)
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    events_poll_seconds: float = Field(
        1.0, gt=0, description="how often a feed looks for changes no wake-up announced"
    )
    events_buffer: int = Field(
        1000, ge=1, description="events a subscriber may fall behind before it is dropped"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        try:
            [parse_network(p) for p in value.split(",") if p.strip()]
        except AddressError as exc:
            raise ValueError(str(exc)) from None
        return value

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return tuple(parse_network(p) for p in self.trusted_proxies.split(",") if p.strip())
