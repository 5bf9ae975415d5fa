"""Connecting a test organisation to the loopback phone systems of tests/support."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from agentstatus.domain.pbx_config import make_config
from agentstatus.service import pbx_settings
from agentstatus.service.pbx_settings import PbxState
from agentstatus.storage.key_file import secret_box_for
from tests.support.ami_server import AmiServer
from tests.support.esl_server import EslServer
from tests.support.receiver import LOOPBACK, LOOPBACK_NETWORKS

# Loopback phone systems, and leases short enough for takeovers to be tested.
# The key the phone systems' secrets are sealed with (every instance needs the same one).
PBX_KEY = "u0WI3Y9hJ6r4cW4-0N1m2QoXa6bq7Lk5Sx7o3m4YF9E="
PBX_ENV = {
    "AGENTSTATUS_SECRET_KEY": PBX_KEY,
    "AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS": LOOPBACK_NETWORKS,
    "AGENTSTATUS_PBX_LEASE_SECONDS": "2",
    "AGENTSTATUS_PBX_TIMEOUT_SECONDS": "2",
}


def use_asterisk(
    engine: Engine, database_url: str, org: str, ami: AmiServer, queues: tuple[str, ...]
) -> None:
    config = make_config(
        "asterisk", "127.0.0.1", port=ami.port, queues=list(queues), username="agentstatus"
    )
    box = secret_box_for(database_url, PBX_KEY)
    pbx_settings.set_pbx(engine, box, org, config, "ami-secret-0001", outbound=LOOPBACK)


def use_freeswitch(
    engine: Engine,
    database_url: str,
    org: str,
    esl: EslServer,
    queues: tuple[str, ...],
    *,
    secret: str = "ClueCon-test-01",  # noqa: S107 - the test server's password
) -> None:
    config = make_config("freeswitch", "127.0.0.1", port=esl.port, queues=list(queues))
    box = secret_box_for(database_url, PBX_KEY)
    pbx_settings.set_pbx(engine, box, org, config, secret, outbound=LOOPBACK)


def wait_state(
    engine: Engine, org: str, check: Callable[[PbxState], bool], timeout: float = 15.0
) -> PbxState:
    deadline = time.monotonic() + timeout
    while True:
        found = pbx_settings.pbx_state(engine, org)
        if found is not None and check(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"the pbx state did not become as expected: {found}")
        time.sleep(0.05)


def extension_calls(base_url: str, code: str) -> dict[str, list[dict[str, object]]]:
    """GetExtensionsCalls' calls, by extension (SIP name)."""
    answer = httpx.get(f"{base_url}/comet/API/GetExtensionsCalls", params={"code": code}).json()
    return {e["username"]: e["calls"] for e in answer["EXTENSIONS"]}


RECONNECT_SECONDS = 40.0
"""How long a test waits for the link to be back: its backoff doubles up to 30 s while the
phone system is away, so under load the next try may be that far off."""
