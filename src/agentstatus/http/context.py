"""What every part of a running service shares, built once by ``create_service``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from agentstatus.domain.addresses import Network
from agentstatus.domain.secret_box import SecretBox
from agentstatus.events.delivery import WebhookDeliverer
from agentstatus.events.hub import EventHub
from agentstatus.http.metrics import Metrics
from agentstatus.http.ratelimit import FailedAuthLimiter
from agentstatus.settings import Settings
from agentstatus.storage.protocol import StatusStore


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: Engine
    store: StatusStore
    metrics: Metrics
    limiter: FailedAuthLimiter
    trusted_proxies: tuple[Network, ...]
    hub: EventHub
    deliverer: WebhookDeliverer
    # None on PostgreSQL without AGENTSTATUS_SECRET_KEY: the server runs, webhooks answer 503.
    secret_box: SecretBox | None
