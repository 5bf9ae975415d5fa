"""The web tests' server and browser: one real server process per test module on its own
database (tests make their own agents and states), and Debian's Chromium driven by
pytest-playwright (a missing Chromium skips here and fails in CI)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
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


@pytest.fixture(scope="module")
def root_admin(shared_engine: Engine, org: OrgFixture) -> WebUser:
    """An admin of every organisation (for tests that make their own organisations)."""
    return add_user(shared_engine, f"root-{org.name}@example.com", Role.ADMIN, None, "Root")
