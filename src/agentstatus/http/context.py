"""What every part of a running service shares, built once by ``create_service``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from agentstatus.domain.addresses import Network
from agentstatus.domain.secret_box import SecretBox
from agentstatus.events.delivery import WebhookDeliverer
from agentstatus.events.fanout import Fanout
from agentstatus.events.hub import EventHub
from agentstatus.http.metrics import Metrics
from agentstatus.http.ratelimit import FailedAuthLimiter
from agentstatus.http.requests import is_https
from agentstatus.service.status_change import StatusChanges
from agentstatus.settings import Settings
from agentstatus.storage.types import Engine


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: Engine
    changes: StatusChanges
    metrics: Metrics
    limiter: FailedAuthLimiter
    trusted_proxies: tuple[Network, ...]
    hub: EventHub
    fanout: Fanout
    deliverer: WebhookDeliverer
    # None on PostgreSQL without AGENTSTATUS_SECRET_KEY: the server runs, webhooks answer 503.
    secret_box: SecretBox | None

    def base_url(self, request: Request) -> str:
        """Where browsers reach the service, for the links it makes: ``AGENTSTATUS_PUBLIC_URL``,
        else the address this request came to."""
        if self.settings.public_url:
            return self.settings.public_url
        scheme = "https" if is_https(request.scope, self.trusted_proxies) else "http"
        host = request.headers.get("host") or f"{self.settings.host}:{self.settings.port}"
        return f"{scheme}://{host}"
