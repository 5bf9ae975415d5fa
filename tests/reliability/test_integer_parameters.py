"""Every route the application has, sent integers no route may take: thousands of digits
(Python's ``int()`` refuses more than 4,300), a superscript two (``str.isdigit`` says
yes), ``-1`` and ``1e3``, in every integer parameter it reads: path, query, header,
form field and JSON body.

The routes are read from the application itself (the raw dispatcher's Voicenter routes
and event stream, the pages, the panel, the FastAPI app), so a new route fails here until
it is listed with the integer parameters it takes. A route answers such a value with 422
(the Voicenter endpoints keep their wire answers: HTTP 200 with their row), and no route
answers any of them, wherever they are put, with a 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from agentstatus.app import create_service
from agentstatus.http.api.operations import router as operations_router
from agentstatus.http.application import Dispatcher
from agentstatus.http.events_endpoint import PATH as EVENTS_PATH
from agentstatus.service.panel_links import create_link
from agentstatus.service.tokens import Role, create_token
from agentstatus.settings import Settings
from agentstatus.web.application import WebFront
from agentstatus.web.panel.api import MAX_BODY as PANEL_MAX_BODY
from agentstatus.wire.paths import PATHS, route_key
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in

HOSTILE = ["9" * 4300, "9" * 5000, str(2**63), "²", "-1", "1e3", "1_0"]
# Where a route reads an integer: ("path" | "query" | "header" | "form" | "json", name).
Spot = tuple[str, str]
RAW_EVENTS = "/api/v1/orgs/{org}/events"
VOICENTER_STATUS: list[Spot] = [("query", "Status")]

# The integer parameters of the routes that are not FastAPI's (whose parameters are read
# from their own declarations below).
PAGE_INTEGERS: dict[tuple[str, str], list[Spot]] = {
    ("GET", "/"): [("query", "page"), ("query", "status")],
    ("GET", "/o/{org}/"): [("query", "page"), ("query", "status")],
    ("GET", "/o/{org}/events"): [("header", "last-event-id"), ("query", "after")],
    ("GET", "/o/{org}/replay/events"): [("query", "after"), ("query", "until")],
    ("GET", "/o/{org}/agents/{user_id}"): [("query", "before")],
    ("GET", "/o/{org}/admin/webhooks"): [("query", "endpoint")],
    ("GET", "/o/{org}/reports"): [("query", "page")],
    ("GET", "/o/{org}/admin/agents"): [("query", "page")],
    ("GET", "/o/{org}/admin/extensions"): [("query", "page")],
    ("GET", "/o/{org}/admin/users"): [("query", "page")],
    ("GET", "/o/{org}/admin/tokens"): [("query", "page")],
    ("POST", "/o/{org}/admin/webhooks/change"): [("form", "endpoint_id")],
    ("POST", "/o/{org}/admin/statuses"): [("form", "status_id")],
    ("POST", "/o/{org}/admin/statuses/edit"): [("form", "status_id")],
    ("POST", "/o/{org}/admin/settings/pbx"): [("form", "port")],
    ("POST", "/o/{org}/admin/settings/wall-links"): [("form", "days")],
    ("POST", "/o/{org}/admin/settings/wall-links/revoke"): [("form", "link_id")],
    ("GET", "/panel/{org}/api/events"): [("header", "last-event-id")],
    ("POST", "/panel/{org}/api/status"): [("json", "status")],
}
# Names an integer could hide under, sent to every route whatever it reads.
EVERYWHERE: list[Spot] = [
    ("header", "last-event-id"),
    ("query", "after"),
    ("query", "before"),
    ("query", "until"),
    ("query", "limit"),
    ("query", "endpoint"),
    ("query", "endpoint_id"),
    ("query", "page"),
    ("query", "status"),
]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    integers: list[Spot]
    kind: str  # "api", "page", "panel", "voicenter", "monitor"


def _routes_of(app: Any) -> list[BaseRoute]:
    while not isinstance(app, Starlette):
        app = app.app
    return list(app.routes)


def _is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(_is_integer(s) for s in schema.get("anyOf", []))


def _api_endpoints(api: FastAPI) -> list[Endpoint]:
    """The native API's operations from its OpenAPI document, with their integer
    parameters; and the undocumented ones (health, metrics), which take none."""
    found = []
    for path, operations in api.openapi()["paths"].items():
        for method, operation in operations.items():
            integers: list[Spot] = [
                (p["in"], p["name"])
                for p in operation.get("parameters", [])
                if _is_integer(p.get("schema", {}))
            ]
            found.append(Endpoint(method.upper(), path, integers, "api"))
    for route in operations_router.routes:
        assert isinstance(route, APIRoute)
        found.extend(Endpoint(m, route.path, [], "api") for m in route.methods - {"HEAD"})
    return found


def every_endpoint(app: Any) -> list[Endpoint]:
    """The routes of the whole application, walked from its outermost ASGI app."""
    while not isinstance(app, Dispatcher):
        app = app.app
    voicenter = {route_key(p) for p in PATHS}
    # The other raw routes are the monitor's login (/monitorAPI/...): they read no integer.
    found = [
        Endpoint("GET", path, VOICENTER_STATUS, "voicenter")
        if path in voicenter
        else Endpoint("GET", path, [], "monitor")
        for path in app.routes
    ]
    # The raw event stream answers the API's documented path (its parameters read below).
    assert EVENTS_PATH.fullmatch(RAW_EVENTS.replace("{org}", "x"))
    assert isinstance(app.web.app, WebFront)
    for kind, part in (("page", app.web.app.pages), ("panel", app.web.app.panel)):
        for route in _routes_of(part):
            assert isinstance(route, Route)
            path = re.sub(r":\w+}", "}", route.path)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append(Endpoint(method, path, PAGE_INTEGERS.get((method, path), []), kind))
    api = app.fallback
    while not isinstance(api, FastAPI):
        api = api.app
    return found + _api_endpoints(api)


@dataclass
class World:
    server: ServerProcess
    org: OrgFixture
    endpoints: list[Endpoint]
    api: httpx.Client
    pages: httpx.Client
    panel_token: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("integers")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    service = create_service(Settings(database_url=url))
    endpoints = every_endpoint(service.asgi)
    engine: Engine = service.context.engine
    org = make_org(engine, agent_count=2)
    admin: WebUser = add_user(engine, f"admin-{org.name}@example.com", Role.ADMIN, None)
    token = create_token(engine, Role.ADMIN).token
    link = create_link(engine, org.name, org.agents[0], org.extensions[0])
    engine.dispose()
    with (
        ServerProcess(url, base / "server.log") as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as api,
        signed_in(server.base_url, admin) as pages,
    ):
        yield World(server, org, endpoints, api, pages, link.token)


def _fill(path: str, org: str, spot: Spot | None, value: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if spot == ("path", name):
            return quote(value, safe="")
        if name == "org":
            return org
        if name == "user_id":
            return "101"
        return "1"

    return re.sub(r"\{(\w+)\}", one, path)


def send(world: World, endpoint: Endpoint, spot: Spot, value: str, org: str) -> int:
    where, name = spot
    path = _fill(endpoint.path, org, spot, value)
    headers: dict[str, Any] = {"accept": "application/json"}
    params: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    if endpoint.kind == "voicenter":
        params["Code"] = world.org.code
    client = world.pages if endpoint.kind == "page" else world.api
    if endpoint.kind == "panel":
        headers["authorization"] = f"Bearer {world.panel_token}"
    if endpoint.kind == "page":
        headers.update(SAME_ORIGIN)
    if where == "query":
        params[name] = value
    elif where == "header":
        headers[name] = value.encode()
    elif where == "form":
        kwargs["data"] = {name: value, "action": "test", "name": "n", "color": "#000000"}
    elif where == "json":
        kwargs["content"] = f'{{"{name}": {value}}}'.encode()  # as written, not a string
        headers["content-type"] = "application/json"
    with client.stream(endpoint.method, path, params=params, headers=headers, **kwargs) as answer:
        return answer.status_code


def test_every_route_is_known(world: World) -> None:
    """The table above names routes that exist (a renamed route is not silently skipped)."""
    known = {(e.method, e.path) for e in world.endpoints}
    assert set(PAGE_INTEGERS) <= known, set(PAGE_INTEGERS) - known
    assert len(world.endpoints) > 80


def test_an_integer_parameter_refuses_what_is_no_integer_of_its_range(world: World) -> None:
    wrong = []
    checked = 0
    for endpoint in world.endpoints:
        for spot in endpoint.integers:
            for value in HOSTILE:
                status = send(world, endpoint, spot, value, world.org.name)
                checked += 1
                expected = 200 if endpoint.kind == "voicenter" else 422
                if spot[0] == "json" and len(value) > PANEL_MAX_BODY:
                    expected = 413  # the body is refused before it is read
                if status != expected:
                    wrong.append((endpoint.method, endpoint.path, spot, value[:12], status))
    assert checked > 100
    assert not wrong, wrong


def test_no_route_answers_a_hostile_integer_with_a_5xx(world: World) -> None:
    failed = []
    for endpoint in world.endpoints:
        # A change is never made with a real organisation here: its name is not one.
        org = world.org.name if endpoint.method == "GET" else "no-such-org"
        for spot in EVERYWHERE:
            for value in ("9" * 4300, "²"):
                status = send(world, endpoint, spot, value, org)
                if status >= 500:
                    failed.append((endpoint.method, endpoint.path, spot, value[:12], status))
    assert not failed, failed
    log = Path(world.server.log_path).read_text()
    assert "Traceback" not in log
