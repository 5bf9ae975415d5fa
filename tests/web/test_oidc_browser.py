"""Signing in through a real OpenID provider (panva's ``oidc-provider`` in Node, on
loopback) in Chromium: a supervisor lands on the board; a user agentstatus does not know,
a replayed ``state`` and an ID token signed by another key are refused with a page that
says so, and each refusal is an audit row. Screenshots of the sign-in page's button."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, text

from agentstatus.app import open_database
from agentstatus.service.tokens import Role
from agentstatus.service.users import list_users
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.oidc_provider import running_provider
from tests.support.server import ServerProcess
from tests.support.web import WebUser, add_user

UNKNOWN = "nobody@example.com"


def _serve(database_url: str, folder: Path, forge: bool, **env: str) -> Iterator[ServerProcess]:
    server = InProcessServer(database_url, folder / "server.log")
    callback = f"{server.base_url}/auth/oidc/callback"
    with running_provider(callback, folder / "provider.log", forge=forge) as provider:
        server.env = {**provider.settings(), **env}
        with server:
            yield server


@pytest.fixture(scope="module")
def oidc_server(
    shared_database_url: str, shared_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from _serve(shared_database_url, tmp_path_factory.mktemp("oidc"), forge=False)


@pytest.fixture(scope="module")
def forging_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, Engine]]:
    """A second service whose provider signs with a key other than the one it publishes."""
    folder = tmp_path_factory.mktemp("forged")
    url = f"sqlite:///{folder / 'agentstatus.db'}"
    engine = open_database(url)
    try:
        for served in _serve(url, folder, forge=True):
            yield served, engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def role_claim_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, Engine]]:
    """A service that takes role and organisation from the token's ``agentstatus_role``
    (the test provider gives ``supervisor:acme``)."""
    folder = tmp_path_factory.mktemp("claim")
    url = f"sqlite:///{folder / 'agentstatus.db'}"
    engine = open_database(url)
    make_org(engine, agent_count=1, extension_count=1, name="acme")
    try:
        claim = {"AGENTSTATUS_OIDC_ROLE_CLAIM": "agentstatus_role"}
        for served in _serve(url, folder, forge=False, **claim):
            yield served, engine
    finally:
        engine.dispose()


def sign_in_at_provider(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.locator("#email").fill(email)
    page.locator("#login").click()


def audited(engine: Engine, source: str) -> list[str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT user_id FROM audit WHERE endpoint = '/auth/oidc/callback' AND source = :s"
            ),
            {"s": source},
        )
        return [r.user_id for r in rows]


def test_a_supervisor_signs_in_through_the_provider(
    page: Page, oidc_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    sign_in_at_provider(page, oidc_server.base_url, supervisor.email)
    expect(page.locator("#board")).to_be_visible()
    expect(page.locator(".who")).to_have_text("Sue")
    assert page.url.startswith(oidc_server.base_url)


def test_a_user_unknown_to_agentstatus_is_refused(
    page: Page, oidc_server: ServerProcess, shared_engine: Engine
) -> None:
    sign_in_at_provider(page, oidc_server.base_url, UNKNOWN)
    expect(page.get_by_role("alert")).to_have_text(
        "Your account is not a user of agentstatus. Ask an administrator to add it."
    )
    assert UNKNOWN in audited(shared_engine, "oidc-user")
    page.goto(f"{oidc_server.base_url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_replayed_state_is_refused(
    page: Page, oidc_server: ServerProcess, supervisor: WebUser, shared_engine: Engine
) -> None:
    with page.expect_request(lambda r: "/auth/oidc/callback" in r.url) as seen:
        sign_in_at_provider(page, oidc_server.base_url, supervisor.email)
    expect(page.locator("#board")).to_be_visible()
    before = len(audited(shared_engine, "oidc-state"))
    # The same callback again, in the same browser (its state cookie still there).
    page.goto(seen.value.url)
    expect(page.get_by_role("alert")).to_have_text(
        "This sign-in is not valid any more (used already, or too old). Start again."
    )
    assert len(audited(shared_engine, "oidc-state")) == before + 1


def test_a_token_signed_by_another_key_is_refused(
    page: Page, forging_server: tuple[ServerProcess, Engine]
) -> None:
    server, engine = forging_server
    org = make_org(engine, agent_count=1, extension_count=1)
    user = add_user(engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name, "Sue")
    sign_in_at_provider(page, server.base_url, user.email)
    expect(page.get_by_role("alert")).to_have_text(
        "The identity provider's answer could not be verified, so it was refused."
    )
    assert len(audited(engine, "oidc-token")) == 1
    page.goto(f"{server.base_url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_role_claim_creates_the_user_on_the_first_sign_in(
    page: Page, role_claim_server: tuple[ServerProcess, Engine]
) -> None:
    server, engine = role_claim_server
    sign_in_at_provider(page, server.base_url, "new.supervisor@example.com")
    expect(page.locator("#board")).to_be_visible()
    created = [u for u in list_users(engine) if u.email == "new.supervisor@example.com"]
    assert [(u.role, u.org) for u in created] == [(Role.SUPERVISOR, "acme")]


def test_the_sign_in_page_in_english_and_hebrew(
    browser: Browser, oidc_server: ServerProcess, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("AGENTSTATUS_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 900, "height": 640})
    page.goto(f"{oidc_server.base_url}/sign-in")
    expect(page.get_by_role("link", name="Sign in with Test IdP")).to_be_visible()
    page.screenshot(path=str(folder / "sign-in-oidc-en.png"), full_page=True)
    page.get_by_role("button", name="עברית").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("link", name="כניסה עם Test IdP")).to_be_visible()
    page.screenshot(path=str(folder / "sign-in-oidc-he.png"), full_page=True)
    page.close()
