"""The web tests' server and browser: a real server process, and Debian's Chromium driven
by pytest-playwright (missing Chromium skips here and fails in CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
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


@pytest.fixture
def org(engine: Engine) -> OrgFixture:
    return make_org(engine, agent_count=3, extension_count=3)


@pytest.fixture
def supervisor(engine: Engine, org: OrgFixture) -> WebUser:
    return add_user(engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name, "Sue")


@pytest.fixture
def admin(engine: Engine, org: OrgFixture) -> WebUser:
    return add_user(engine, f"admin-{org.name}@example.com", Role.ADMIN, org.name, "Ada")


@pytest.fixture
def web_server(
    database_url: str, engine: Engine, org: OrgFixture, tmp_path: Path
) -> Iterator[ServerProcess]:
    with ServerProcess(database_url, tmp_path / "server.log") as process:
        yield process
