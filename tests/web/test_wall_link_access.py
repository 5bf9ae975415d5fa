"""What the wall asks of a wall link (``web/wall_link_access.py``), on each engine: the grant
of a valid link of the organisation, and for anything else a 401 that says which refusal
it is in the reader's language, as JSON for the wall's script or as a page that names no
other page. The wall's routes are stood in for by two of the same shape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentstatus.app import open_database
from agentstatus.service import panel_links, wall_links
from agentstatus.service.links import LinkRefusal
from agentstatus.storage.schema import wall_links as wall_links_table
from agentstatus.web.static_files import StaticFiles
from agentstatus.web.templating import Pages
from agentstatus.web.wall_link_access import refusal_json, refusal_page, wall_link_grant
from tests.support.factories import OrgFixture, make_org


async def data(request: Request) -> Response:
    found = await wall_link_grant(request, request.path_params["org"])
    if isinstance(found, LinkRefusal):
        return refusal_json(request, found)
    return JSONResponse({"org": found.org, "label": found.label})


async def refused(request: Request) -> Response:
    return refusal_page(request, LinkRefusal(request.path_params["reason"]))


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def org(engine: Engine) -> OrgFixture:
    return make_org(engine, agent_count=1)


class Client:
    """Requests to the application in this process."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://wall") as client:
                return await client.get(path, **kwargs)

        return asyncio.run(send())


@pytest.fixture
def client(engine: Engine) -> Client:
    app = Starlette(
        routes=[
            Route("/o/{org}/wall/data", data),
            Route("/o/{org}/wall/refused/{reason}", refused),
        ]
    )
    app.state.context = SimpleNamespace(engine=engine)
    app.state.pages = Pages(StaticFiles())
    return Client(app)


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_valid_link_is_granted_its_organisations_wall_only(
    client: Client, engine: Engine, org: OrgFixture
) -> None:
    made = wall_links.create_link(engine, org.name, "TV")
    other = make_org(engine, agent_count=0)
    shown = client.get(f"/o/{org.name}/wall/data", headers=_bearer(made.token))
    assert shown.status_code == 200
    assert shown.json() == {"org": org.name, "label": "TV"}
    elsewhere = client.get(f"/o/{other.name}/wall/data", headers=_bearer(made.token))
    assert elsewhere.status_code == 401
    assert elsewhere.json()["reason"] == "unknown"


def test_refusals_say_which_in_words(client: Client, engine: Engine, org: OrgFixture) -> None:
    expired = wall_links.create_link(engine, org.name)
    revoked = wall_links.create_link(engine, org.name)
    with engine.begin() as conn:
        conn.execute(
            update(wall_links_table)
            .where(wall_links_table.c.id == expired.link.id)
            .values(expires_ms=0)
        )
    wall_links.revoke_link(engine, org.name, revoked.link.id)
    panel = panel_links.create_link(engine, org.name, org.agents[0], None)
    path = f"/o/{org.name}/wall/data"
    cases = [
        ({}, "unknown", "This wall link does not work"),
        ({"authorization": "Basic abc"}, "unknown", "This wall link does not work"),
        (_bearer(panel.token), "unknown", "This wall link does not work"),
        (_bearer("x" * 10_000), "unknown", "This wall link does not work"),
        (_bearer(expired.token), "expired", "This wall link has expired"),
        (_bearer(revoked.token), "revoked", "This wall link was revoked"),
    ]
    for headers, reason, title in cases:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert set(body) == {"title", "detail", "reason"}
        assert (body["reason"], body["title"]) == (reason, title)
        assert "Ask an administrator for a new wall link." in body["detail"]
    hebrew = client.get(path, headers={**_bearer(expired.token), "accept-language": "he"})
    assert hebrew.json()["title"] == "תוקף הקישור למסך הקיר פג"
    asked = client.get(path, params={"lang": "he"}, headers=_bearer(revoked.token))
    assert asked.json()["title"] == "הקישור למסך הקיר בוטל"
    odd = client.get(path, params={"lang": "xx"}, headers=_bearer(revoked.token))
    assert odd.json()["title"] == "This wall link was revoked"


@pytest.mark.parametrize("refusal", list(LinkRefusal))
def test_the_refusal_page_says_why_and_names_no_other_page(
    client: Client, org: OrgFixture, refusal: LinkRefusal
) -> None:
    page = client.get(f"/o/{org.name}/wall/refused/{refusal.value}")
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert f'data-link-refused="{refusal.value}"' in page.text
    assert "wall link" in page.text
    for other in ('href="/o/', "/admin", "/reports", "Sign out", "Board"):
        assert other not in page.text
    hebrew = client.get(
        f"/o/{org.name}/wall/refused/{refusal.value}", headers={"accept-language": "he"}
    )
    assert 'dir="rtl"' in hebrew.text
    assert "קישור" in hebrew.text
    assert "wall link" not in hebrew.text
