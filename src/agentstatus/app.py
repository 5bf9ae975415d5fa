"""The composition root: ``create_app(settings)`` builds the whole service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.types import ASGIApp

from agentstatus.context import AppContext
from agentstatus.http.access_log import AccessLogMiddleware
from agentstatus.http.api.application import create_api
from agentstatus.http.application import Dispatcher
from agentstatus.http.compat import CompatEndpoints
from agentstatus.http.metrics import Metrics
from agentstatus.http.ratelimit import FailedAuthLimiter
from agentstatus.settings import Settings
from agentstatus.storage.database import create_sql_engine, parse_url, sqlite_path
from agentstatus.storage.migrate import upgrade
from agentstatus.storage.protocol import StatusStore
from agentstatus.storage.sqlite_status import SqliteStatusStore


def open_database(database_url: str) -> Engine:
    """An engine on an up-to-date schema (migrations run automatically)."""
    engine = create_sql_engine(database_url)
    upgrade(engine)
    return engine


def create_status_store(database_url: str) -> StatusStore:
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteStatusStore(sqlite_path(url))
    raise NotImplementedError("the PostgreSQL status engine is not built yet")


@dataclass(frozen=True, slots=True)
class Service:
    """The ASGI application and what it was built from (tests reach in through this)."""

    asgi: ASGIApp
    context: AppContext


def create_service(settings: Settings) -> Service:
    engine = open_database(settings.database_url)
    store = create_status_store(settings.database_url)
    context = AppContext(
        settings=settings,
        engine=engine,
        store=store,
        metrics=Metrics(),
        limiter=FailedAuthLimiter(limit=settings.auth_failures_per_minute),
        trusted_proxies=settings.trusted_proxy_networks(),
    )

    async def shutdown() -> None:
        await store.close()
        engine.dispose()

    app: ASGIApp = Dispatcher(
        CompatEndpoints(context).routes(), create_api(context), store.start, shutdown
    )
    if settings.access_log:
        app = AccessLogMiddleware(app)
    return Service(app, context)


def create_app(settings: Settings | None = None) -> ASGIApp:
    return create_service(settings or Settings()).asgi
