"""A wall link opens the wall and nothing else: its token, sent as ``Authorization: Bearer``
to every other route of the application, is worth exactly what an unknown token is.

The routes are read from the application itself (``every_endpoint``: the Voicenter
endpoints, the pages, the panel, the native API with its event stream), so a route added
later is covered without being listed here. Each answers the wall link as it answers a
made-up token of the same shape: the native API 401 ``unauthorized``, the panel 401
``unknown``, the pages the sign-in page (or 401 for the board's event stream), the
Voicenter endpoints their wire refusal, the monitor's login its 401; the few public routes
the same page to anyone.
None answers with a 5xx, and the token is in no line of the server's log.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentstatus.app import create_service
from agentstatus.domain.codes import WALL_TOKEN_PREFIX
from agentstatus.service import wall_links
from agentstatus.service.wall_links import WallGrant
from agentstatus.settings import Settings
from tests.reliability.test_integer_parameters import Endpoint, every_endpoint
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess

# The wall's own routes: the link is for them (web/wall_link_access.py).
WALL_PREFIX = "/o/{org}/wall"
# Routes anyone may reach, signed in or not: they answer the link as they answer anyone.
PUBLIC = {
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("POST", "/sign-out"),
    # Single sign-on: 404 when no provider is configured (as here), else the provider's.
    ("GET", "/auth/oidc/start"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/language"),
    ("GET", "/static/{name}"),
    ("GET", "/panel/embed.js"),
    ("GET", "/panel/panel.css"),
    ("GET", "/panel/{org}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/monitorapi/getmonitorurls"),  # the monitor's server list (its token optional)
    ("GET", "/asyncapi.json"),  # the event contract, like /openapi.json
}


@dataclass
class World:
    server: ServerProcess
    org: OrgFixture
    endpoints: list[Endpoint]
    wall_token: str
    client: httpx.Client


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("wall-reach")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    service = create_service(Settings(database_url=url))
    endpoints = [e for e in every_endpoint(service.asgi) if not e.path.startswith(WALL_PREFIX)]
    engine = service.context.engine
    org = make_org(engine, agent_count=2)
    made = wall_links.create_link(engine, org.name, "TV")
    # The token is a working one: what follows is refused for where it is sent, not for it.
    assert isinstance(wall_links.verify_link(engine, org.name, made.token), WallGrant)
    engine.dispose()
    with (
        ServerProcess(url, base / "server.log") as server,
        httpx.Client(base_url=server.base_url, timeout=10, follow_redirects=True) as client,
    ):
        yield World(server, org, endpoints, made.token, client)


@dataclass(frozen=True)
class Answer:
    status: int
    path: str
    """The path answered last (after redirects)."""
    body: Any


def _send(world: World, endpoint: Endpoint, token: str) -> Answer:
    path = re.sub(
        r"\{(\w+)\}",
        lambda m: {"org": world.org.name, "user_id": "101", "name": "app.css"}.get(m[1], "1"),
        endpoint.path,
    )
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    world.client.cookies.clear()  # a sign-out may set one; each request comes with none
    with world.client.stream(endpoint.method, path, headers=headers) as answer:
        raw = answer.read()  # an event stream that opened would time out here
        kind = answer.headers.get("content-type", "")
        body: Any = answer.json() if kind.startswith("application/json") else len(raw)
        return Answer(answer.status_code, answer.url.path, body)


def _refused(endpoint: Endpoint, answer: Answer) -> bool:
    if endpoint.kind == "api":
        return answer.status == 401 and answer.body["code"] == "unauthorized"
    if endpoint.kind == "panel":
        return answer.status == 401 and answer.body["reason"] == "unknown"
    if endpoint.kind == "page":
        # Sent to the sign-in page, or the board's event stream's 401.
        return (answer.status == 200 and answer.path == "/sign-in") or answer.status == 401
    if endpoint.kind == "monitor":
        # The monitor's login: 401 in the SDK's shape (a GET to a login: 405, unread).
        return answer.status in (401, 405) and answer.body["Data"] is None
    assert endpoint.kind == "voicenter"
    body = answer.body
    return answer.status == 200 and (body.get("ERR") == 1 or body.get("StatusError") == 6)


def test_every_other_route_takes_the_wall_link_for_an_unknown_token(world: World) -> None:
    made_up = WALL_TOKEN_PREFIX + secrets.token_urlsafe(32)
    kinds = {e.kind for e in world.endpoints}
    assert kinds == {"api", "page", "panel", "voicenter", "monitor"}
    assert len(world.endpoints) > 80
    wrong = []
    for endpoint in world.endpoints:
        answer = _send(world, endpoint, world.wall_token)
        unknown = _send(world, endpoint, made_up)
        public = (endpoint.method, endpoint.path) in PUBLIC
        if answer != unknown or answer.status >= 500 or not (public or _refused(endpoint, answer)):
            wrong.append((endpoint.method, endpoint.path, answer, unknown))
    assert not wrong, wrong


def test_the_public_routes_listed_exist(world: World) -> None:
    known = {(e.method, e.path) for e in world.endpoints}
    assert known >= PUBLIC, PUBLIC - known


def test_the_token_is_not_in_the_log(world: World) -> None:
    endpoint = next(e for e in world.endpoints if e.path == "/api/v1/orgs/{org}/presence")
    _send(world, endpoint, world.wall_token)
    log = Path(world.server.log_path).read_text()
    assert world.wall_token not in log
    assert "Traceback" not in log
