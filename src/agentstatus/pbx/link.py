"""One organisation's connection to its phone system, while this instance holds its lease.

On every connect the link reads the phone system's members and repairs every difference
from agentstatus's presence (counting the repairs), then follows the durable history from
the point it read presence at: each change names the seats it touched, and each seat is
set to what presence says *now*. A phone system that was down for an hour is therefore
given the agents' current state, not a replay of every change, and a command that fails is
retried, with the state current then, until it is applied. Pauses made at the phone come
back as status changes with source ``pbx``; channel events become live calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.events.feed import CommitFence, latest_final, read_events
from agentstatus.events.hub import EventHub
from agentstatus.events.model import Event
from agentstatus.outbound import OutboundPolicy
from agentstatus.pbx import store
from agentstatus.pbx.asterisk import Asterisk
from agentstatus.pbx.calls import CallChange, Changed
from agentstatus.pbx.config import PbxConfig, PbxKind
from agentstatus.pbx.freeswitch import FreeSwitch
from agentstatus.pbx.phone import BoundCrossed, PauseAtPhone, PhoneError, PhoneSystem
from agentstatus.pbx.seats import Seat, status_for_pause, template_pattern
from agentstatus.service.status_change import StatusChanges

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""The history is read at least this often, whatever wakes the link."""
RETRY_SECONDS = 2.0
"""A seat the phone system refused is tried again after this."""
MAX_BACKOFF = 30.0
RECONCILE_SECONDS = 300.0
"""Besides every (re)connect, the members are read and repaired this often (a change made
at the phone system that sent no event, or one agentstatus missed)."""
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class LinkTarget:
    oid: int
    org: str
    config: PbxConfig
    secret: str


def make_phone(
    target: LinkTarget, outbound: OutboundPolicy, timeout: float, extensions: frozenset[str]
) -> PhoneSystem:
    kind = Asterisk if target.config.kind is PbxKind.ASTERISK else FreeSwitch
    return kind(target.config, target.secret, outbound, timeout=timeout, extensions=extensions)


class PbxLink:
    def __init__(
        self,
        engine: Engine,
        fence: CommitFence,
        hub: EventHub,
        changes: StatusChanges,
        announce: Callable[[int], None],
        outbound: OutboundPolicy,
        target: LinkTarget,
        holder: str,
        *,
        timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        self.fence = fence
        self.hub = hub
        self.changes = changes
        self.announce = announce
        self.outbound = outbound
        self.target = target
        self.holder = holder
        self.timeout = timeout
        self._retry: dict[str, Seat] = {}
        config = target.config
        self._seat_key = template_pattern(
            config.interface if config.kind is PbxKind.ASTERISK else config.agent
        )

    async def run(self) -> None:
        """Connect, and connect again whenever the connection is lost, until cancelled."""
        backoff = 1.0
        t = self.target
        while True:
            extensions = await asyncio.to_thread(store.org_extensions, self.engine, t.oid)
            phone = make_phone(t, self.outbound, self.timeout, extensions)
            before = backoff
            try:
                await phone.connect()
                backoff = 1.0
                await self._connected(phone)
            except BoundCrossed as exc:
                # It sent more than we may hold: reconnecting at once invites it again.
                backoff = before
                await self._error(str(exc))
            except PhoneError as exc:
                await self._error(str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("pbx link of organisation %d failed", t.oid)
                await self._error(f"internal error: {type(exc).__name__}")
            finally:
                await self._lost(phone)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _error(self, text: str) -> None:
        log.warning("pbx of organisation %d: %s", self.target.oid, text)
        await asyncio.to_thread(
            store.record,
            self.engine,
            self.target.oid,
            self.holder,
            connected=False,
            last_error=text[:MAX_ERROR],
            last_error_ms=now_ms(),
        )

    async def _lost(self, phone: PhoneSystem) -> None:
        """No phantom calls: the calls of a connection that ended can no longer be followed."""
        with contextlib.suppress(Exception):
            await phone.close()
        ended = phone.calls.end_all()
        with contextlib.suppress(Exception):
            if ended:
                wrote = await asyncio.to_thread(
                    store.store_calls, self.engine, self.target.oid, ended
                )
                if wrote:
                    self.announce(self.target.oid)
            await asyncio.to_thread(store.clear_calls, self.engine, self.target.oid)
            await asyncio.to_thread(
                store.record, self.engine, self.target.oid, self.holder, connected=False
            )
            await asyncio.to_thread(
                store.add_commands, self.engine, self.target.oid, self.holder, phone.commands
            )

    async def _reconcile(self, phone: PhoneSystem) -> int:
        """Repair every difference from presence; the history cursor read before it."""
        t = self.target
        # The cursor is read before presence: a change committed meanwhile is followed too.
        cursor = await asyncio.to_thread(latest_final, self.engine, self.fence, t.oid)
        desired = await asyncio.to_thread(store.all_seats, self.engine, t.config, t.oid)
        found = await phone.reconcile(desired)
        await asyncio.to_thread(
            store.count_repairs, self.engine, t.oid, self.holder, found.checked, found.repaired
        )
        log.info(
            "pbx of organisation %d reconciled: %d seats checked, %d repaired",
            t.oid,
            found.checked,
            found.repaired,
        )
        return cursor

    async def _connected(self, phone: PhoneSystem) -> None:
        t = self.target
        await asyncio.to_thread(
            store.record, self.engine, t.oid, self.holder, connected=True, connected_ms=now_ms()
        )
        cursor = await self._reconcile(phone)
        await asyncio.to_thread(store.clear_calls, self.engine, t.oid)
        live = await phone.live_calls()
        if live:
            started = [Changed(CallChange.STARTED, c) for c in live]
            if await asyncio.to_thread(store.store_calls, self.engine, t.oid, started):
                self.announce(t.oid)
        self._retry.clear()
        tasks = [
            asyncio.create_task(self._follow(phone, cursor), name="pbx-follow"),
            asyncio.create_task(self._events(phone), name="pbx-events"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for task in done:
            task.result()  # raises what ended it
        raise PhoneError("the connection was lost")

    # -- agentstatus to the phone system

    @staticmethod
    def _touched(events: list[Event]) -> tuple[set[str], set[str]]:
        """The extensions and agents the changes touched (a call's event touches none)."""
        sips: set[str] = set()
        users: set[str] = set()
        for e in events:
            if e.call is not None:
                continue
            users.add(e.user_id)
            for sip in (e.prev_extension, e.new_extension):
                if sip is not None:
                    sips.add(sip)
        return sips, users

    async def _apply(self, phone: PhoneSystem, seats: list[Seat]) -> None:
        for seat in seats:
            try:
                await phone.apply(seat)
                self._retry.pop(seat.key, None)
            except PhoneError as exc:
                if not phone.connected():
                    raise
                self._retry[seat.key] = seat
                await self._error(str(exc))

    async def _follow(self, phone: PhoneSystem, cursor: int) -> None:
        t = self.target
        retry_at = 0.0
        loop = asyncio.get_running_loop()
        reconcile_at = loop.time() + RECONCILE_SECONDS
        with self.hub.listen(t.oid) as wake:
            while True:
                wake.clear()
                if loop.time() >= reconcile_at:
                    reconcile_at = loop.time() + RECONCILE_SECONDS
                    # Changes committed since the cursor are in the reconcile's presence.
                    cursor = max(cursor, await self._reconcile(phone))
                events = await asyncio.to_thread(
                    read_events, self.engine, self.fence, t.org, t.oid, cursor
                )
                if events:
                    sips, users = self._touched(events)
                    if sips or users:
                        seats = await asyncio.to_thread(
                            store.seats_for, self.engine, t.config, t.oid, sips, users
                        )
                        await self._apply(phone, seats)
                    cursor = events[-1].id
                    continue
                if self._retry and loop.time() >= retry_at:
                    keys = set(self._retry)
                    retry_at = loop.time() + RETRY_SECONDS
                    every = await asyncio.to_thread(store.all_seats, self.engine, t.config, t.oid)
                    await self._apply(phone, [s for k, s in every.items() if k in keys])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    # -- the phone system to agentstatus

    async def _events(self, phone: PhoneSystem) -> None:
        t = self.target
        while True:
            batch = await phone.events()
            if batch is None:
                raise PhoneError("the connection was lost")
            calls = [e for e in batch if isinstance(e, Changed)]
            if calls:
                wrote = await asyncio.to_thread(store.store_calls, self.engine, t.oid, calls)
                if wrote:
                    self.announce(t.oid)
            for event in batch:
                if isinstance(event, PauseAtPhone):
                    await self._pause(event)

    async def _pause(self, event: PauseAtPhone) -> None:
        t = self.target
        match = self._seat_key.match(event.key)
        if match is None:
            return
        fields = match.groupdict()
        found = await asyncio.to_thread(
            store.agent_at,
            self.engine,
            t.oid,
            sip=fields.get("extension"),
            user_id=None if "extension" in fields else fields.get("user_id"),
        )
        if found is None:
            return
        agent, sip = found
        if event.logged_out:  # a status change, as a pause is (agent_at finds no Logout)
            status: int | None = LOGOUT
        else:
            names = await asyncio.to_thread(store.pause_names, self.engine, t.oid)
            status = status_for_pause(
                event.paused, event.reason, agent.status, agent.available, names
            )
        if status is None:
            return
        await self.changes.apply(
            StatusCommand(agent.user_id, sip, status, Source.PBX, org_id=t.oid)
        )
