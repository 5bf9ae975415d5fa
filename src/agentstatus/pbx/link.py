"""One organisation's connection to its phone system, while this instance holds its lease.

On every connect the link reads the phone system's members and repairs every difference
from agentstatus's presence (counting the repairs), then follows the durable history from
the point it read presence at: each change names the seats it touched, and each seat is
set to what presence says *now*. A phone system that was down for an hour is therefore
given the agents' current state, not a replay of every change, and a command that fails is
retried, with the state current then, until it is applied. Pauses made at the phone come
back as status changes with source ``pbx``; channel events become live calls, and a call's
end may start the agent's wrap-up or apply its next status (``service/wrap_up.py``). The
callers in the phone system's queues are read on every connect and followed from its queue
events (``service/queues.py``); an answered one names the agent at the seat that answered.

A member changed at the phone system without agentstatus asking (removed, added, paused
with no status change to follow) is set back to what presence says at once (a
:class:`Drift`), and a phone system that loaded its state again (a :class:`Resync`:
Asterisk booted, ``app_queue`` reloaded) is reconciled at once.

Reconnecting: a connection that was working is tried again every ``FAST_RETRY_SECONDS``
for ``FAST_RETRY_WINDOW`` seconds (a phone system restarts in seconds), then with a
doubling backoff up to ``MAX_BACKOFF``; a refused login waits ``LOGIN_RETRY_SECONDS`` (a
phone system behind fail2ban bans a client that keeps failing), and a connection dropped
for passing a bound (``BoundCrossed``, or ami.py's reason) gets no fast retry and keeps its
backoff growing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from agentstatus.domain.calls import CallChange, Changed
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.missed_calls import MissedOffer
from agentstatus.domain.pbx_config import PbxConfig, PbxKind
from agentstatus.domain.phone_registration import PhoneSeen, PhoneState
from agentstatus.domain.queues import CallerChange, CallerEvent, WaitingNow
from agentstatus.domain.seats import Seat, status_for_pause, template_pattern
from agentstatus.events.hub import EventHub
from agentstatus.outbound import OutboundPolicy
from agentstatus.pbx import phone_state as store
from agentstatus.pbx.asterisk import Asterisk
from agentstatus.pbx.freeswitch import FreeSwitch
from agentstatus.pbx.phone import (
    BoundCrossed,
    Drift,
    LoginRefused,
    PauseAtPhone,
    PhoneError,
    PhoneSystem,
    Resync,
)
from agentstatus.service import wrap_up
from agentstatus.service.missed_calls import missed_call
from agentstatus.service.queues import record as record_queues
from agentstatus.service.status_change import StatusChanges
from agentstatus.storage.commit_order import CommitFence, latest_final, read_events
from agentstatus.storage.types import Engine
from agentstatus.wire.backoff import jitter

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""The history is read at least this often, whatever wakes the link."""
RETRY_SECONDS = 2.0
"""A seat the phone system refused is tried again after this."""
MAX_BACKOFF = 30.0
FAST_RETRY_SECONDS = 0.25
FAST_RETRY_WINDOW = 10.0
"""After a working connection is lost, it is tried again every ``FAST_RETRY_SECONDS`` for
this long before the backoff starts."""
FAST_RETRY_COOLDOWN = 60.0
"""At most one fast window this often: a connection that keeps failing soon after it is
made is not retried four times a second for ever."""
LOGIN_RETRY_SECONDS = 300.0
"""After the phone system refused our login (a wrong secret) the next try is this far off;
a change of settings restarts the link and tries at once."""
EXTENSIONS_SECONDS = 1.0
"""The organisation's extensions are read again this often while connected (an extension
added gets its live calls without a reconnect)."""
RECONCILE_SECONDS = 300.0
"""Besides every (re)connect, the members are read and repaired this often (a change made
at the phone system that sent no event, or one agentstatus missed)."""
MAX_ERROR = 500
COUNT_SECONDS = 1.0
"""The commands sent are stored at most this often (and when the connection ends)."""


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
        self._drift: set[str] = set()
        """Seats changed at the phone system that agentstatus did not ask for."""
        self._resync = False
        self._wake: asyncio.Event | None = None
        self._counted = 0
        self._count_at = 0.0
        self._established = False
        """The connection was reconciled: it worked, and losing it opens a fast window."""
        config = target.config
        self._phones: dict[str, PhoneState] = {}
        """Each extension's phone as last stored by this connection (most device state
        changes are a call's, not the phone's: they are not stored again)."""
        self._seat_key = template_pattern(
            config.interface if config.kind is PbxKind.ASTERISK else config.agent
        )

    async def run(self) -> None:
        """Connect, and connect again whenever the connection is lost, until cancelled."""
        backoff = 1.0
        fast_until = 0.0  # retry fast until then: a working connection was just lost
        window_opened = -FAST_RETRY_COOLDOWN
        t = self.target
        loop = asyncio.get_running_loop()
        while True:
            extensions = await asyncio.to_thread(store.org_extensions, self.engine, t.oid)
            phone = make_phone(t, self.outbound, self.timeout, extensions)
            delay: float | None = None
            before, bounded = backoff, False
            try:
                await phone.connect()
                backoff = 1.0
                self._established = False
                try:
                    await self._connected(phone)
                finally:
                    now = loop.time()
                    if self._established and now - window_opened >= FAST_RETRY_COOLDOWN:
                        window_opened, fast_until = now, now + FAST_RETRY_WINDOW
            except BoundCrossed as exc:
                bounded = True
                await self._error(str(exc))
            except LoginRefused as exc:
                delay = LOGIN_RETRY_SECONDS
                next_try = to_iso(now_ms() + int(delay * 1000))
                await self._error(f"login refused; next try at {next_try}: {exc}")
            except PhoneError as exc:
                await self._error(str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("pbx link of organisation %d failed", t.oid)
                await self._error(f"internal error: {type(exc).__name__}")
            finally:
                await self._lost(phone)
            if bounded or (isinstance(phone, Asterisk) and phone.dropped_because):
                # It sent more than we may hold: reconnecting at once invites it again, so
                # the backoff grows on from where it was instead of starting over.
                backoff = before
            elif delay is None and loop.time() < fast_until:
                delay = FAST_RETRY_SECONDS
            if delay is None:
                delay = jitter(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            await asyncio.sleep(delay)

    async def _error(self, text: str) -> None:
        """The last error: a refused command or a lost connection. Whether the connection
        is up is recorded only by connecting and losing it."""
        log.warning("pbx of organisation %d: %s", self.target.oid, text)
        await asyncio.to_thread(
            store.record,
            self.engine,
            self.target.oid,
            self.holder,
            last_error=text[:MAX_ERROR],
            last_error_ms=now_ms(),
        )

    async def _flush(self, phone: PhoneSystem, *, force: bool = False) -> None:
        """Store what the connection did since the last flush: the members made or
        removed (Asterisk), and the commands sent (``pbx show`` counts them), at most
        every ``COUNT_SECONDS`` unless ``force``: a write after every pass of the feed
        made the busy feed wait for SQLite's write lock between two passes."""
        sent = phone.commands - self._counted
        now = asyncio.get_running_loop().time()
        if sent and (force or now >= self._count_at):
            self._counted = phone.commands
            self._count_at = now + COUNT_SECONDS
            await asyncio.to_thread(
                store.add_commands, self.engine, self.target.oid, self.holder, sent
            )
        if isinstance(phone, Asterisk) and phone.owned_changes:
            changes, phone.owned_changes = phone.owned_changes, []
            await asyncio.to_thread(
                store.keep_owned, self.engine, self.target.oid, _endpoint(self.target), changes
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
            await self._flush(phone, force=True)

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
        self._counted = 0
        self._drift.clear()
        self._resync = False
        # Connected: an earlier error is history now (a refused command sets it again).
        await asyncio.to_thread(
            store.record,
            self.engine,
            t.oid,
            self.holder,
            connected=True,
            connected_ms=now_ms(),
            last_error=None,
            last_error_ms=None,
        )
        if isinstance(phone, Asterisk):
            phone.owned = await asyncio.to_thread(
                store.owned_members, self.engine, t.oid, _endpoint(t)
            )
            removed = await phone.remove_stale(
                lambda queue, interface: (
                    queue in t.config.queues and self._extension_of(phone, interface) is not None
                )
            )
            if removed:
                log.info("pbx of organisation %d: %d stale members removed", t.oid, removed)
        cursor = await self._reconcile(phone)
        self._established = True
        await self._flush(phone, force=True)
        await asyncio.to_thread(store.clear_calls, self.engine, t.oid)
        live = await phone.live_calls()
        if live:
            started = [Changed(CallChange.STARTED, c) for c in live]
            if await asyncio.to_thread(store.store_calls, self.engine, t.oid, started):
                self.announce(t.oid)
        self._phones.clear()
        await self._store_phones(await phone.registrations())
        # Read before any event is handled: the events that came meanwhile are handled
        # after it, in order, and a change they repeat changes nothing.
        await self._store_queues(await phone.waiting())
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
    def _touched(events: list[HistoryEvent]) -> tuple[set[str], set[str]]:
        """The extensions and agents the changes touched (an event that changes no presence,
        such as a call's or a queue's caller's, touches none)."""
        sips: set[str] = set()
        users: set[str] = set()
        for e in events:
            if not e.is_change:
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

    def _extension_of(self, phone: PhoneSystem, key: str) -> str | None:
        """The organisation's extension a seat key names (Asterisk's interface)."""
        match = self._seat_key.match(key)
        sip = match.groupdict().get("extension") if match is not None else None
        return sip if sip is not None and sip in phone.extensions else None

    async def _repair_drift(self, phone: PhoneSystem) -> None:
        """Set the seats changed at the phone system to what presence says now (only what
        differs is sent: the adapter follows the members from their events)."""
        keys, self._drift = self._drift, set()
        sips = {s for s in (self._extension_of(phone, k) for k in keys) if s is not None}
        if not sips:
            return
        t = self.target
        seats = await asyncio.to_thread(store.seats_for, self.engine, t.config, t.oid, sips, set())
        await self._apply(phone, seats)

    async def _follow(self, phone: PhoneSystem, cursor: int) -> None:
        t = self.target
        retry_at = 0.0
        loop = asyncio.get_running_loop()
        reconcile_at = loop.time() + RECONCILE_SECONDS
        extensions_at = loop.time() + EXTENSIONS_SECONDS
        with self.hub.listen(t.oid) as wake:
            self._wake = wake
            while True:
                wake.clear()
                if self._resync or loop.time() >= reconcile_at:
                    self._resync = False
                    reconcile_at = loop.time() + RECONCILE_SECONDS
                    # Changes committed since the cursor are in the reconcile's presence.
                    cursor = max(cursor, await self._reconcile(phone))
                    await self._flush(phone)
                if loop.time() >= extensions_at:
                    extensions_at = loop.time() + EXTENSIONS_SECONDS
                    phone.extensions = await asyncio.to_thread(
                        store.org_extensions, self.engine, t.oid
                    )
                if self._drift:
                    await self._repair_drift(phone)
                    await self._flush(phone)
                events = await asyncio.to_thread(
                    read_events, self.engine, self.fence, t.org, t.oid, cursor
                )
                if events:
                    await asyncio.to_thread(store.plan_after_changes, self.engine, t.oid, events)
                    sips, users = self._touched(events)
                    if sips or users:
                        seats = await asyncio.to_thread(
                            store.seats_for, self.engine, t.config, t.oid, sips, users
                        )
                        await self._apply(phone, seats)
                        await self._flush(phone)
                    cursor = events[-1].id
                    continue
                if self._retry and loop.time() >= retry_at:
                    keys = set(self._retry)
                    retry_at = loop.time() + RETRY_SECONDS
                    every = await asyncio.to_thread(store.all_seats, self.engine, t.config, t.oid)
                    await self._apply(phone, [s for k, s in every.items() if k in keys])
                    await self._flush(phone)
                await self._flush(phone)  # the count held back, when it is due
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):  # (see fanout's feed: not wait_for)
                        await wake.wait()

    # -- the phone system to agentstatus

    async def _events(self, phone: PhoneSystem) -> None:
        t = self.target
        while True:
            batch = await phone.events()
            if batch is None:
                raise PhoneError("the connection was lost")
            calls = [e for e in batch if isinstance(e, Changed)]
            if calls:
                # Stored, and the ended ones' wrap-ups decided, in one transaction. Only
                # here, not when the connection is lost: a call that could no longer be
                # followed has not ended, and starts no wrap-up.
                await wrap_up.calls_changed(self.engine, self.changes, t.oid, calls, self.announce)
            await self._store_phones([e for e in batch if isinstance(e, PhoneSeen)])
            await self._store_queues([e for e in batch if isinstance(e, CallerEvent)])
            kick = False
            for event in batch:
                if isinstance(event, PauseAtPhone):
                    if not await self._pause(event):
                        # No status follows from it: what the member is must still be
                        # what presence says (a reason changed, a stale pause restored).
                        self._drift.add(event.key)
                        kick = True
                elif isinstance(event, Drift):
                    self._drift.add(event.key)
                    kick = True
                elif isinstance(event, MissedOffer):
                    await self._missed(event)  # last of its batch: after the calls before it
                elif isinstance(event, Resync):
                    log.info("pbx of organisation %d: %s; reconciling", t.oid, event.why)
                    self._resync = True
                    kick = True
            if kick and self._wake is not None:
                self._wake.set()

    async def _store_phones(self, seen: list[PhoneSeen]) -> None:
        """Keep the phones' states that changed (and write their events)."""
        new = [s for s in seen if self._phones.get(s.extension) is not s.state]
        if not new:
            return
        for s in new:
            self._phones[s.extension] = s.state
        if await asyncio.to_thread(store.store_phones, self.engine, self.target.oid, new):
            self.announce(self.target.oid)

    async def _store_queues(self, heard: Sequence[CallerEvent | WaitingNow]) -> None:
        """The callers of the phone system's queues, in order (``service.queues``): an
        answered one names the agent logged in at the seat that answered it."""
        if not heard:
            return
        named: list[CallerEvent | WaitingNow] = []
        for item in heard:
            if isinstance(item, CallerEvent) and item.change is CallerChange.ANSWERED:
                found = await self._agent_at_seat(item.member) if item.member else None
                if found is not None:
                    item = replace(item, user_id=found[0].user_id)
            named.append(item)
        if await asyncio.to_thread(record_queues, self.engine, self.target.oid, named):
            self.announce(self.target.oid)

    async def _agent_at_seat(self, key: str) -> tuple[store.AtExtension, str] | None:
        """The agent logged in at a seat (Asterisk's interface, FreeSWITCH's agent name)
        and the extension, or None."""
        match = self._seat_key.match(key)
        if match is None:
            return None
        fields = match.groupdict()
        return await asyncio.to_thread(
            store.agent_at,
            self.engine,
            self.target.oid,
            sip=fields.get("extension"),
            user_id=None if "extension" in fields else fields.get("user_id"),
        )

    async def _pause(self, event: PauseAtPhone) -> bool:
        """The status a pause at the phone means, applied; False when it means none."""
        t = self.target
        found = await self._agent_at_seat(event.key)
        if found is None:
            return False
        agent, sip = found
        if event.logged_out:  # a status change, as a pause is (agent_at finds no Logout)
            status: int | None = LOGOUT
        else:
            names = await asyncio.to_thread(store.pause_names, self.engine, t.oid)
            status = status_for_pause(
                event.paused, event.reason, agent.status, agent.available, names
            )
        if status is None:
            return False
        await self.changes.apply(
            StatusCommand(agent.user_id, sip, status, Source.PBX, org_id=t.oid)
        )
        return True

    async def _missed(self, event: MissedOffer) -> None:
        """A call offered to a seat rang out: recorded for the agent logged in there, who
        may be moved by the organisation's missed-calls rule (``service/missed_calls.py``)."""
        t = self.target
        found = await self._agent_at_seat(event.key)
        if found is not None:
            agent, _ = found
            await missed_call(self.engine, self.changes, self.announce, t.oid, agent.user_id, event)


def _endpoint(target: LinkTarget) -> str:
    """Where the members were made: another host's members are not this one's."""
    return f"{target.config.host}:{target.config.port}"
