"""The Node harness of the tests (``tests/node``: real clients and servers from the npm
registry, installed from its lock file by ``make test`` and CI). A test that needs it skips
without it, and fails without it in CI, where it must run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_MODULES = NODE_DIR / "node_modules"


def require(problem: str | None) -> None:
    """Skip (fail in CI) for ``problem``; nothing when it is None."""
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Node is required in CI: {problem}")
    pytest.skip(problem)


def package_or_skip(package: str) -> Path:
    """Where an installed package of the harness is (``@asyncapi/specs``, ...)."""
    path = NODE_MODULES / package
    require(None if path.is_dir() else f"{package} is not installed (npm ci --prefix tests/node)")
    return path


def node_with(package: str) -> str:
    """The ``node`` binary, with ``package`` of the harness installed."""
    node = shutil.which("node")
    require("node is not installed (apt-get install nodejs npm)" if node is None else None)
    package_or_skip(package)
    assert node is not None
    return node
