"""The composition root: ``create_service(settings)`` builds the whole service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from starlette.types import ASGIApp

from agentstatus.domain.commands import StatusResult
from agentstatus.events import credentials
from agentstatus.events.credentials import Credential
from agentstatus.events.delivery import DeliveryPolicy, WebhookDeliverer
from agentstatus.events.fanout import Fanout
from agentstatus.events.hub import EventHub
from agentstatus.events.pg_listener import PostgresListener
from agentstatus.http.access_log import AccessLogMiddleware
from agentstatus.http.api.application import create_api
from agentstatus.http.application import Dispatcher
from agentstatus.http.context import AppContext
from agentstatus.http.events_endpoint import EventsEndpoint
from agentstatus.http.metrics import Metrics
from agentstatus.http.ratelimit import WINDOW_SECONDS, FailedAuthLimiter
from agentstatus.http.voicenter import voicenter_routes
from agentstatus.pbx.manager import PbxManager
from agentstatus.service.deadlines import DeadlineRunner
from agentstatus.service.panel_links import ended_among
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.tokens import revoked_among
from agentstatus.service.web_sessions import closed_among
from agentstatus.settings import Settings
from agentstatus.storage.auth_failures import SharedFailureCounts
from agentstatus.storage.commit_order import CommitFence
from agentstatus.storage.database import libpq_conninfo, parse_url
from agentstatus.storage.key_file import secret_box_if_configured
from agentstatus.storage.migrate import open_database
from agentstatus.storage.stores import create_status_store
from agentstatus.web.application import create_web

__all__ = ["Service", "create_app", "create_service", "create_status_store", "open_database"]


@dataclass(frozen=True, slots=True)
class Service:
    """The ASGI application and what it was built from (tests reach in through this)."""

    asgi: ASGIApp
    context: AppContext


def create_service(settings: Settings) -> Service:
    engine = open_database(settings.database_url)
    url = parse_url(settings.database_url)
    hub = EventHub()
    secret_box = secret_box_if_configured(settings.database_url, settings.secret_key)
    deliverer = WebhookDeliverer(
        engine,
        secret_box,
        DeliveryPolicy(
            lease_seconds=settings.webhook_lease_seconds,
            retry_base_seconds=settings.webhook_retry_base_seconds,
            give_up_after_seconds=settings.webhook_give_up_after_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
        settings.outbound_policy(),
    )
    # The deliverer polls its outbox twice a second; waking it on every change cost the
    # hot path a query even with no webhook configured.
    listener = (
        PostgresListener(libpq_conninfo(url), hub)
        if url.get_backend_name() == "postgresql"
        else None
    )

    def announce(org_id: int | None) -> None:
        hub.notify(org_id)
        if listener is not None:
            listener.announce(org_id)

    def after_commit(result: StatusResult) -> None:
        announce(result.org_id)

    changes = StatusChanges(
        create_status_store(settings.database_url, settings.database_timeout_seconds),
        after_commit,
    )
    deadline_runner = DeadlineRunner(engine, changes, announce)
    fence = CommitFence(engine)
    pbx = PbxManager(
        engine,
        fence,
        hub,
        changes,
        announce,
        settings.outbound_policy(),
        secret_box,
        lease_seconds=settings.pbx_lease_seconds,
        timeout_seconds=settings.pbx_timeout_seconds,
    )
    limiter, shared_failures = _limiter(settings, url)
    fanout = Fanout(
        engine,
        hub,
        fence,
        poll_seconds=settings.events_poll_seconds,
        buffer=settings.events_buffer,
        keepalive_seconds=settings.events_keepalive_seconds,
        streams_per_token=settings.events_streams_per_token,
        revoked_among=lambda held: revoked_credentials(engine, held),
    )
    metrics = Metrics()
    metrics.watch_streams(
        lambda: fanout.subscribers, lambda: fanout.lagged, lambda: fanout.streams.refused
    )
    context = AppContext(
        settings=settings,
        engine=engine,
        changes=changes,
        metrics=metrics,
        limiter=limiter,
        trusted_proxies=settings.trusted_proxy_networks(),
        hub=hub,
        fanout=fanout,
        deliverer=deliverer,
        secret_box=secret_box,
    )

    async def startup() -> None:
        await changes.start()
        if listener is not None:
            await listener.start()
        if shared_failures is not None:
            await shared_failures.start()
        await deliverer.start()
        await deadline_runner.start()
        await pbx.start()

    async def shutdown() -> None:
        await pbx.close()
        await deadline_runner.close()
        await fanout.close()
        await deliverer.close()
        if listener is not None:
            await listener.close()
        if shared_failures is not None:
            await shared_failures.close()
        await changes.close()
        engine.dispose()

    routes = voicenter_routes(context)
    app: ASGIApp = Dispatcher(
        routes,
        create_api(context),
        startup,
        shutdown,
        EventsEndpoint(context),
        create_web(context),
    )
    if settings.access_log:
        app = AccessLogMiddleware(app)
    return Service(app, context)


def revoked_credentials(engine: Engine, held: set[Credential]) -> set[Credential]:
    """Which of the open streams' tokens are revoked, sessions closed and panel links
    ended (one query each)."""
    tokens = {c.id for c in held if c.kind == "token"}
    sessions = {c.id for c in held if c.kind == "session"}
    links = {c.id for c in held if c.kind == "panel"}
    return (
        {credentials.token(i) for i in revoked_among(engine, tokens)}
        | {credentials.session(i) for i in closed_among(engine, sessions)}
        | {credentials.panel(i) for i in ended_among(engine, links)}
    )


def _limiter(settings: Settings, url: URL) -> tuple[FailedAuthLimiter, SharedFailureCounts | None]:
    """The failed-authentication limiter; on PostgreSQL its counts are shared by every
    instance on the database (on SQLite they stay in this process)."""
    limit = settings.auth_failures_per_minute
    shared = (
        SharedFailureCounts(
            libpq_conninfo(url),
            limit=limit,
            window_seconds=WINDOW_SECONDS,
            timeout_seconds=settings.database_timeout_seconds,
        )
        if url.get_backend_name() == "postgresql" and limit > 0
        else None
    )
    # A request waits for the lookups ahead of it at most as long as one may take.
    limiter = FailedAuthLimiter(
        limit=limit, max_wait_seconds=settings.database_timeout_seconds, shared=shared
    )
    if shared is not None:
        shared.deliver_to(limiter)
    return limiter, shared


def create_app(settings: Settings | None = None) -> ASGIApp:
    return create_service(settings or Settings()).asgi
