"""The composition root: ``create_service(settings)`` builds the whole service."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp

from agentstatus.context import AppContext
from agentstatus.events.delivery import DeliveryPolicy, WebhookDeliverer
from agentstatus.events.hub import EventHub, NotifyingStore
from agentstatus.events.pg_listener import PostgresListener
from agentstatus.http.access_log import AccessLogMiddleware
from agentstatus.http.api.application import create_api
from agentstatus.http.application import Dispatcher
from agentstatus.http.metrics import Metrics
from agentstatus.http.ratelimit import FailedAuthLimiter
from agentstatus.http.voicenter import voicenter_routes
from agentstatus.secrets_config import optional_secret_box
from agentstatus.settings import Settings
from agentstatus.storage.database import libpq_conninfo, parse_url, sqlite_path
from agentstatus.storage.migrate import open_database
from agentstatus.storage.postgres_status import PostgresStatusStore
from agentstatus.storage.protocol import StatusStore
from agentstatus.storage.sqlite_status import SqliteStatusStore

__all__ = ["Service", "create_app", "create_service", "create_status_store", "open_database"]


def create_status_store(database_url: str, timeout_seconds: float = 5.0) -> StatusStore:
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteStatusStore(sqlite_path(url))
    return PostgresStatusStore(libpq_conninfo(url), timeout_seconds=timeout_seconds)


@dataclass(frozen=True, slots=True)
class Service:
    """The ASGI application and what it was built from (tests reach in through this)."""

    asgi: ASGIApp
    context: AppContext


def create_service(settings: Settings) -> Service:
    engine = open_database(settings.database_url)
    url = parse_url(settings.database_url)
    hub = EventHub()
    deliverer = WebhookDeliverer(
        engine,
        optional_secret_box(settings.database_url, settings.secret_key),
        DeliveryPolicy(
            lease_seconds=settings.webhook_lease_seconds,
            retry_base_seconds=settings.webhook_retry_base_seconds,
            give_up_after_seconds=settings.webhook_give_up_after_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
    )
    # The deliverer polls its outbox twice a second; waking it on every change cost the
    # hot path a query even with no webhook configured.
    listener = (
        PostgresListener(libpq_conninfo(url), hub)
        if url.get_backend_name() == "postgresql"
        else None
    )
    store = NotifyingStore(
        create_status_store(settings.database_url, settings.database_timeout_seconds),
        hub,
        listener.announce if listener is not None else lambda org_id: None,
    )
    context = AppContext(
        settings=settings,
        engine=engine,
        store=store,
        metrics=Metrics(),
        limiter=FailedAuthLimiter(limit=settings.auth_failures_per_minute),
        trusted_proxies=settings.trusted_proxy_networks(),
        hub=hub,
        deliverer=deliverer,
    )

    async def startup() -> None:
        await store.start()
        if listener is not None:
            await listener.start()
        await deliverer.start()

    async def shutdown() -> None:
        await deliverer.close()
        if listener is not None:
            await listener.close()
        await store.close()
        engine.dispose()

    routes = voicenter_routes(context)
    app: ASGIApp = Dispatcher(routes, create_api(context), startup, shutdown)
    if settings.access_log:
        app = AccessLogMiddleware(app)
    return Service(app, context)


def create_app(settings: Settings | None = None) -> ASGIApp:
    return create_service(settings or Settings()).asgi
