"""The composition root: ``create_service(settings)`` builds the whole service."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from starlette.types import ASGIApp

from agentstatus.domain.commands import StatusResult
from agentstatus.domain.secret_box import SecretBox
from agentstatus.events import credentials
from agentstatus.events.credentials import Credential
from agentstatus.events.delivery import DeliveryPolicy, WebhookDeliverer
from agentstatus.events.fanout import Fanout
from agentstatus.events.hub import EventHub
from agentstatus.events.monitor import status_repeated
from agentstatus.events.pg_listener import PostgresListener
from agentstatus.http.access_log import AccessLogMiddleware
from agentstatus.http.api.application import create_api
from agentstatus.http.application import Dispatcher, Mounted
from agentstatus.http.context import AppContext
from agentstatus.http.events_endpoint import EventsEndpoint
from agentstatus.http.metrics import Metrics
from agentstatus.http.monitor_socket import MonitorSocket
from agentstatus.http.monitor_source import ServiceMonitorSource
from agentstatus.http.ratelimit import WINDOW_SECONDS, FailedAuthLimiter
from agentstatus.http.voicenter import voicenter_routes
from agentstatus.pbx.manager import PbxManager
from agentstatus.service import monitor_login, wall_links
from agentstatus.service.deadlines import DeadlineRunner
from agentstatus.service.panel_links import ended_among
from agentstatus.service.status_change import StatusChanges
from agentstatus.service.tokens import revoked_among
from agentstatus.service.web_sessions import closed_among
from agentstatus.settings import Settings
from agentstatus.storage.auth_failures import SharedFailureCounts
from agentstatus.storage.commit_order import CommitFence
from agentstatus.storage.database import connections_in_use, libpq_conninfo, parse_url
from agentstatus.storage.key_file import secret_box_if_configured
from agentstatus.storage.migrate import open_database
from agentstatus.storage.stores import create_status_store
from agentstatus.storage.types import Engine
from agentstatus.web.application import create_web
from agentstatus.web.application import handles as web_handles

__all__ = ["Service", "create_app", "create_service", "create_status_store", "open_database"]


@dataclass(frozen=True, slots=True)
class Service:
    """The ASGI application and what it was built from (tests reach in through this)."""

    asgi: ASGIApp
    context: AppContext


@dataclass(slots=True)
class _Core:
    """The database and the news of its commits, which every other part is built on."""

    engine: Engine
    hub: EventHub
    fence: CommitFence
    # On PostgreSQL the libpq connection string of the instance's own connections (LISTEN,
    # the shared failure counts); None on SQLite, where everything stays in this process.
    conninfo: str | None
    listener: PostgresListener | None
    secret_box: SecretBox | None
    changes: StatusChanges = field(init=False)
    fanout: Fanout | None = field(init=False, default=None)
    """Told of an identical status set again (Voicenter's monitor sockets announce it)."""

    def __post_init__(self) -> None:
        if self.listener is not None:  # another instance's repeats reach this one's monitor
            self.listener.on_repeat = lambda n: self.repeated(n.org_id, n.user_id, n.at_ms)

    def announce(self, org_id: int | None) -> None:
        """Wake the streams and phone-system links of ``org_id`` on every instance.

        The webhook deliverer is not woken here: it polls its outbox twice a second, and
        waking it on every change cost the hot path a query even with no webhook set up."""
        self.hub.notify(org_id)
        if self.listener is not None:
            self.listener.announce(org_id)

    def after_commit(self, result: StatusResult) -> None:
        if result.change is None:  # an identical status again: only the monitor hears it
            if result.org_id is not None and result.repeated:
                at_ms = result.at_ms or 0
                self.repeated(result.org_id, result.repeated, at_ms)
                if self.listener is not None:  # and the other instances' monitors
                    self.listener.announce_repeat(result.org_id, result.repeated, at_ms)
            return
        self.announce(result.org_id)

    def repeated(self, org_id: int, user_id: str, at_ms: int) -> None:
        """A repeat, here or on another instance: this instance's monitor sockets hear it."""
        if self.fanout is not None:
            status_repeated(self.fanout, org_id, user_id, at_ms)


@dataclass(frozen=True, slots=True)
class _Workers:
    """The background tasks, started in this order and closed in the reverse one."""

    core: _Core
    shared_failures: SharedFailureCounts | None
    deliverer: WebhookDeliverer
    deadline_runner: DeadlineRunner
    pbx: PbxManager
    fanout: Fanout

    async def startup(self) -> None:
        await self.core.changes.start()
        if self.core.listener is not None:
            await self.core.listener.start()
        if self.shared_failures is not None:
            await self.shared_failures.start()
        await self.deliverer.start()
        await self.deadline_runner.start()
        await self.pbx.start()

    async def shutdown(self) -> None:
        await self.pbx.close()
        await self.deadline_runner.close()
        await self.fanout.close()
        await self.deliverer.close()
        if self.core.listener is not None:
            await self.core.listener.close()
        if self.shared_failures is not None:
            await self.shared_failures.close()
        await self.core.changes.close()
        await _connections_returned(self.core.engine)
        self.core.engine.dispose()


# A background loop cancelled at shutdown does not stop the thread running its database call
# (``asyncio.to_thread``): disposing the pool under that thread would leave the connection it
# then gives back in the discarded pool, open until the garbage collector warns ("deleted
# while still open"). Those calls are short; wait for them, a bounded time.
RETURN_WAIT_SECONDS = 5.0


async def _connections_returned(engine: Engine) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(RETURN_WAIT_SECONDS):
            while connections_in_use(engine):
                await asyncio.sleep(0.01)


def create_service(settings: Settings) -> Service:
    core = _core(settings)
    limiter, shared_failures = _limiter(settings, core.conninfo)
    fanout = core.fanout = _fanout(settings, core)
    deliverer = _deliverer(settings, core)
    context = AppContext(
        settings=settings,
        engine=core.engine,
        changes=core.changes,
        metrics=_metrics(fanout),
        limiter=limiter,
        trusted_proxies=settings.trusted_proxy_networks(),
        hub=core.hub,
        fanout=fanout,
        deliverer=deliverer,
        secret_box=core.secret_box,
    )
    workers = _Workers(
        core,
        shared_failures,
        deliverer,
        DeadlineRunner(core.engine, core.changes, core.announce),
        _pbx(settings, core),
        fanout,
    )
    app: ASGIApp = Dispatcher(
        voicenter_routes(context),
        create_api(context),
        workers.startup,
        workers.shutdown,
        EventsEndpoint(context),
        Mounted(create_web(context), web_handles),
        MonitorSocket(ServiceMonitorSource(core.engine, fanout)),
    )
    if settings.access_log:
        app = AccessLogMiddleware(app)
    return Service(app, context)


def _core(settings: Settings) -> _Core:
    engine = open_database(settings.database_url)
    url = parse_url(settings.database_url)
    conninfo = libpq_conninfo(url) if url.get_backend_name() == "postgresql" else None
    hub = EventHub()
    core = _Core(
        engine,
        hub,
        CommitFence(engine),
        conninfo,
        None if conninfo is None else PostgresListener(conninfo, hub),
        secret_box_if_configured(settings.database_url, settings.secret_key),
    )
    core.changes = StatusChanges(
        create_status_store(settings.database_url, settings.database_timeout_seconds),
        core.after_commit,
    )
    return core


def _deliverer(settings: Settings, core: _Core) -> WebhookDeliverer:
    return WebhookDeliverer(
        core.engine,
        core.secret_box,
        DeliveryPolicy(
            lease_seconds=settings.webhook_lease_seconds,
            retry_base_seconds=settings.webhook_retry_base_seconds,
            give_up_after_seconds=settings.webhook_give_up_after_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
        settings.outbound_policy(),
    )


def _pbx(settings: Settings, core: _Core) -> PbxManager:
    return PbxManager(
        core.engine,
        core.fence,
        core.hub,
        core.changes,
        core.announce,
        settings.outbound_policy(),
        core.secret_box,
        lease_seconds=settings.pbx_lease_seconds,
        timeout_seconds=settings.pbx_timeout_seconds,
    )


def _fanout(settings: Settings, core: _Core) -> Fanout:
    engine = core.engine
    return Fanout(
        engine,
        core.hub,
        core.fence,
        poll_seconds=settings.events_poll_seconds,
        buffer=settings.events_buffer,
        keepalive_seconds=settings.events_keepalive_seconds,
        streams_per_token=settings.events_streams_per_token,
        revoked_among=lambda held: revoked_credentials(engine, held),
    )


def _metrics(fanout: Fanout) -> Metrics:
    metrics = Metrics()
    metrics.watch_streams(
        lambda: fanout.subscribers, lambda: fanout.lagged, lambda: fanout.streams.refused
    )
    return metrics


def revoked_credentials(engine: Engine, held: set[Credential]) -> set[Credential]:
    """Which of the open streams' tokens are revoked, sessions closed, panel and wall links
    ended and monitor logins ended (one query each)."""
    tokens = {c.id for c in held if c.kind == "token"}
    sessions = {c.id for c in held if c.kind == "session"}
    links = {c.id for c in held if c.kind == "panel"}
    walls = {c.id for c in held if c.kind == "wall"}
    monitors = {c.id for c in held if c.kind == "monitor"}
    return (
        {credentials.token(i) for i in revoked_among(engine, tokens)}
        | {credentials.session(i) for i in closed_among(engine, sessions)}
        | {credentials.panel(i) for i in ended_among(engine, links)}
        | {credentials.wall(i) for i in wall_links.ended_among(engine, walls)}
        | {credentials.monitor(i) for i in monitor_login.ended_among(engine, monitors)}
    )


def _limiter(
    settings: Settings, conninfo: str | None
) -> tuple[FailedAuthLimiter, SharedFailureCounts | None]:
    """The failed-authentication limiter; on PostgreSQL its counts are shared by every
    instance on the database (on SQLite they stay in this process)."""
    limit = settings.auth_failures_per_minute
    shared = (
        SharedFailureCounts(
            conninfo,
            limit=limit,
            window_seconds=WINDOW_SECONDS,
            timeout_seconds=settings.database_timeout_seconds,
        )
        if conninfo is not None and limit > 0
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
