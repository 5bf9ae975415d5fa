"""The instance's phone-system connections: one lease per organisation in the database, so
that with several instances on one PostgreSQL exactly one holds each connection.

Every quarter of a lease the manager renews the leases it holds and takes the ones that
lapsed (``storage.pbx_links.take_leases``: one instance wins each), and starts, restarts
(the settings changed) or stops its links accordingly. An instance that dies leaves its
leases to lapse; another takes them within about 1.25 leases. One that stops cleanly gives
them back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.domain.secret_box import SecretBox, SecretKeyError
from agentstatus.events.hub import EventHub
from agentstatus.outbound import OutboundPolicy
from agentstatus.pbx import phone_state as store
from agentstatus.pbx.link import LinkTarget, PbxLink
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage import pbx_links
from agentstatus.storage.commit_order import CommitFence
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Running:
    updated_ms: int
    task: asyncio.Task[None]


def take_leases(engine: Engine, holder: str, lease_ms: int) -> dict[int, int]:
    """Renew or take every lease that is ours or lapsed; {org id: settings' updated_ms}."""
    with engine.begin() as conn:
        return pbx_links.take_leases(conn, holder, now_ms(), lease_ms)


def release_leases(engine: Engine, holder: str) -> None:
    with engine.begin() as conn:
        pbx_links.release_leases(conn, holder)


def load_target(engine: Engine, box: SecretBox, oid: int) -> LinkTarget | None:
    with reading(engine) as conn:
        stored = pbx_links.stored_target(conn, oid)
    if stored is None:
        return None
    return LinkTarget(oid, stored.org, stored.config, box.open(stored.secret_enc))


class PbxManager:
    def __init__(
        self,
        engine: Engine,
        fence: CommitFence,
        hub: EventHub,
        changes: StatusChanges,
        announce: Callable[[int], None],
        outbound: OutboundPolicy,
        box: SecretBox | None,
        *,
        lease_seconds: float = 20.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.fence = fence
        self.hub = hub
        self.changes = changes
        self.announce = announce
        self.outbound = outbound
        self.box = box
        self.lease_ms = int(lease_seconds * 1000)
        self.timeout = timeout_seconds
        self.holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._links: dict[int, _Running] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.box is not None:  # without the key no secret can be read: no connection
            self._task = asyncio.create_task(self._run(), name="pbx-manager")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for oid in list(self._links):
            await self._stop(oid)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(release_leases, self.engine, self.holder)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pbx leases: a round failed; retrying")
            await asyncio.sleep(self.lease_ms / 4000)

    async def tick(self) -> None:
        held = await asyncio.to_thread(take_leases, self.engine, self.holder, self.lease_ms)
        for oid in [o for o in self._links if o not in held]:
            await self._stop(oid)  # lost (or removed): another instance may hold it now
        for oid, updated in held.items():
            running = self._links.get(oid)
            if running is not None and running.updated_ms == updated and not running.task.done():
                continue
            if running is not None:
                await self._stop(oid)
            await self._start(oid, updated)

    async def _start(self, oid: int, updated: int) -> None:
        assert self.box is not None
        try:
            target = await asyncio.to_thread(load_target, self.engine, self.box, oid)
        except SecretKeyError as exc:
            await asyncio.to_thread(
                store.record,
                self.engine,
                oid,
                self.holder,
                last_error=str(exc),
                last_error_ms=now_ms(),
            )
            return
        if target is None:
            return
        link = PbxLink(
            self.engine,
            self.fence,
            self.hub,
            self.changes,
            self.announce,
            self.outbound,
            target,
            self.holder,
            timeout=self.timeout,
        )
        task = asyncio.create_task(link.run(), name=f"pbx-link-{oid}")
        self._links[oid] = _Running(updated, task)

    async def _stop(self, oid: int) -> None:
        running = self._links.pop(oid, None)
        if running is not None:
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running.task
