"""A real OpenID provider for the sign-in tests: ``tests/node/oidc_provider.mjs`` (panva's
``oidc-provider``) on a loopback port, as a subprocess. Skips without Node or the harness,
fails without them in CI."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.node import NODE_DIR, node_with
from tests.support.server import free_port

SCRIPT = NODE_DIR / "oidc_provider.mjs"
CLIENT_ID = "agentstatus-tests"
CLIENT_SECRET = "a-test-secret-not-used-anywhere-else"


def node_with_provider() -> str:
    return node_with("oidc-provider")


@dataclass(frozen=True, slots=True)
class Provider:
    issuer: str

    def settings(self) -> dict[str, str]:
        """The service's environment for signing in through this provider."""
        return {
            "AGENTSTATUS_OIDC_ISSUER": self.issuer,
            "AGENTSTATUS_OIDC_CLIENT_ID": CLIENT_ID,
            "AGENTSTATUS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "AGENTSTATUS_OIDC_NAME": "Test IdP",
        }


@contextmanager
def running_provider(redirect_uri: str, log: Path, *, forge: bool = False) -> Iterator[Provider]:
    """The provider, ready; ``forge`` signs its ID tokens with a key it does not publish."""
    node = node_with_provider()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": redirect_uri,
        "FORGE": "1" if forge else "0",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [node, str(SCRIPT)], cwd=NODE_DIR, env=env, stdout=subprocess.PIPE, stderr=out
        )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = process.stdout.readline().decode()
        if not line.startswith("ready ") or time.monotonic() > deadline:
            raise RuntimeError(f"the provider did not start: {line!r}\n{log.read_text()}")
        yield Provider(line.split()[1])
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
