"""The web tests' server and browser: one real server process per test module on its own
database (tests make their own agents and states), and Debian's Chromium driven by
pytest-playwright (a missing Chromium skips here and fails in CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright
from sqlalchemy import Engine

from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.web import WebUser, add_user

CHROMIUM = os.environ.get("AGENTSTATUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI and is not at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="module")
def org(shared_engine: Engine) -> OrgFixture:
    return make_org(shared_engine, agent_count=3, extension_count=3)


@pytest.fixture(scope="module")
def supervisor(shared_engine: Engine, org: OrgFixture) -> WebUser:
    return add_user(shared_engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name, "Sue")


@pytest.fixture(scope="module")
def admin(shared_engine: Engine, org: OrgFixture) -> WebUser:
    return add_user(shared_engine, f"admin-{org.name}@example.com", Role.ADMIN, org.name, "Ada")


# pytest-playwright keeps one Playwright, and so a running event loop in the main thread,
# for the whole session: every later test that calls asyncio.run() would fail. Here the
# browser lives for one test module and stops with it.
@pytest.fixture(scope="module")
def playwright(
    _pw_api_request_contexts: Any,
) -> Iterator[Playwright]:
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    browser_type: BrowserType = getattr(playwright, browser_name)
    return browser_type


@pytest.fixture(scope="module")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_context_args(pytestconfig: pytest.Config, _pw_artifacts_folder: Any) -> dict[str, Any]:
    """pytest-playwright's, without devices or a base URL (the tests give whole URLs)."""
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        return {"record_video_dir": _pw_artifacts_folder.name}
    return {}


@pytest.fixture(scope="module")
def root_admin(shared_engine: Engine, org: OrgFixture) -> WebUser:
    """An admin of every organisation (for tests that make their own organisations)."""
    return add_user(shared_engine, f"root-{org.name}@example.com", Role.ADMIN, None, "Root")
