"""Fan-out: one reader of the durable history per organisation and instance, handing every
event, framed once, to every subscriber of that organisation in memory.

Each subscriber has a bounded buffer. One that falls too far behind is dropped: its stream
ends with a ``lagged`` event (when it can still be written) and the client resumes with
``Last-Event-ID`` from the durable history, so nothing is lost and nobody else waits for
it. A feed keeps its most recent events in memory, so subscribers that resume, or connect
by the thousand, are served without a query each; snapshots taken at once are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import orjson
from fastapi.sse import format_sse_event

from agentstatus.domain.history_event import HistoryEvent
from agentstatus.events.credentials import Credential
from agentstatus.events.feed import snapshot
from agentstatus.events.hub import EventHub
from agentstatus.events.slots import StreamSlots
from agentstatus.events.snapshot_frame import SnapshotBuilder, SnapshotFrame
from agentstatus.storage.commit_order import CommitFence, latest_final, read_events, read_final
from agentstatus.storage.types import Engine

log = logging.getLogger(__name__)

# Events a feed keeps in memory for subscribers that connect or resume behind it.
RECENT = 4096
# Events read from the history per round (a full batch is followed by another at once).
BATCH = 500
# At most one read of the history per feed in this time, however many changes wake it.
MIN_READ_INTERVAL = 0.01
# A snapshot this young is shared with subscribers that connect meanwhile.
SNAPSHOT_REUSE_SECONDS = 1.0
# A feed without subscribers stops after this long (keeping its memory for reconnects).
IDLE_SECONDS = 30.0
# How often the tokens of the open streams are checked (one query for all of them).
TOKEN_CHECK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Framed:
    """An event as it goes on the wire, framed once for every subscriber."""

    id: int
    type: str
    user_id: str
    """The agent whose event it is ("" for none: a queue's caller's)."""
    frame: bytes


def frame_event(event: HistoryEvent) -> Framed:
    data = orjson.dumps(event.as_event_json()).decode()
    frame = format_sse_event(data_str=data, event=event.type, id=str(event.id))
    # A queue's caller's event is no agent's: "" reaches no agent's own stream (a panel).
    return Framed(event.id, event.type, event.agent_user_id, frame)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants: some agents' (a panel), some types; None is all."""

    user_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None

    def matches(self, event: Framed) -> bool:
        return (self.user_ids is None or event.user_id in self.user_ids) and (
            self.types is None or event.type in self.types
        )


class FeedTap(Protocol):
    """Something that reads every event a feed reads, in order, before the streams are
    handed them (Voicenter's monitor state, ``events.monitor``: only on a feed whose
    organisation has monitor sockets, so the event streams' path costs nothing more)."""

    def take(self, events: list[HistoryEvent]) -> None: ...


class Dropped(Enum):
    """Why a subscription ended on the server's side (the client did not hang up)."""

    LAGGED = "lagged"
    CLOSED = "closed"
    REVOKED = "revoked"
    """Its token was revoked."""
    STALLED = "stalled"
    """Its client took nothing of its snapshot for too long."""


class Subscription:
    """One subscriber's bounded buffer of framed events after its cursor."""

    def __init__(
        self,
        event_filter: EventFilter,
        cursor: int,
        limit: int,
        on_lagged: Callable[[], None] = lambda: None,
    ) -> None:
        self.filter = event_filter
        self.cursor = cursor
        """The id of the last event handed to this subscriber (or skipped by its filter)."""
        self.limit = limit
        self.delivered = cursor
        """The id of the last event taken from the buffer to be sent."""
        self.dropped: Dropped | None = None
        self._frames: deque[Framed] = deque()
        self._ready = asyncio.Event()
        self.gone = asyncio.Event()
        """Set when the server drops the subscription (whoever is waiting to write)."""
        self.on_close: Callable[[], None] = lambda: None
        self._on_lagged = on_lagged
        self.credential: Credential | None = None
        """The token or session it was opened with: revoking it ends the stream."""
        self.release: Callable[[], None] = lambda: None
        """Gives back its token's stream slot (on close, whatever ended it)."""
        self.quiet_since = time.monotonic()
        """When this subscriber was last sent anything; its feed asks for a keepalive."""
        self._keepalive = False

    def offer(self, event: Framed) -> None:
        if event.id <= self.cursor or self.dropped is not None:
            return
        self.cursor = event.id
        if not self.filter.matches(event):
            return
        if len(self._frames) >= self.limit:
            self._on_lagged()
            self.drop(Dropped.LAGGED)
            return
        self._frames.append(event)
        self._ready.set()

    def drop(self, reason: Dropped) -> None:
        if self.dropped is None:
            self.dropped = reason
            self._frames.clear()
            self._ready.set()
            self.gone.set()
            self.close()

    def ask_keepalive(self) -> None:
        self._keepalive = True
        self._ready.set()

    async def wait(self) -> list[bytes]:
        """The frames waiting; none when a keepalive is due, or once dropped.

        (No timer per wait: with thousands of subscribers, the feed's own clock asks for
        the keepalives.)"""
        while not self._frames and self.dropped is None and not self._keepalive:
            self._ready.clear()
            await self._ready.wait()
        self._ready.clear()
        self._keepalive = False
        self.quiet_since = time.monotonic()
        if not self._frames:
            return []
        frames = [event.frame for event in self._frames]
        self.delivered = self._frames[-1].id
        self._frames.clear()
        return frames

    def close(self) -> None:
        """Detach from the feed (idempotent)."""
        on_close, self.on_close = self.on_close, lambda: None
        release, self.release = self.release, lambda: None
        on_close()
        release()


@dataclass(frozen=True, slots=True)
class Catching:
    """A new subscription, and what it missed before it was attached: the history's events
    after its cursor up to ``history_upto``, then ``backlog`` (framed, from memory)."""

    subscription: Subscription
    history_upto: int
    backlog: list[bytes]


class OrgFeed:
    """The one reader of an organisation's history on this instance."""

    def __init__(self, fanout: Fanout, org: str, oid: int, cursor: int) -> None:
        self._fanout = fanout
        self.org = org
        self.oid = oid
        self.cursor = cursor
        """Every event up to this id has been read (and every one after is still to come)."""
        self.floor = cursor
        """The events after this id are all in ``recent``."""
        self.recent: deque[Framed] = deque()
        self._everyone: set[Subscription] = set()
        self._by_user: dict[str, set[Subscription]] = {}
        self._unfed: set[Subscription] = set()
        self.tap: FeedTap | None = None
        """Voicenter's monitor state, while the organisation has monitor sockets."""
        self.subscribers = 0
        self._idle_since: float | None = None
        self._checked_quiet = time.monotonic()
        self._shared: SnapshotFrame | None = None
        self._snapshotting: asyncio.Future[SnapshotFrame] | None = None
        self.task: asyncio.Task[None] | None = None

    def attach(self, subscription: Subscription, *, fed: bool = True) -> None:
        """Register a subscriber for the events after its cursor (at or past this feed's:
        what it missed before, it takes from ``recent`` and the history). One not ``fed``
        (a monitor socket, fed by the feed's tap) is only counted, watched for its token
        and closed with the feed."""
        users = subscription.filter.user_ids
        if not fed:
            users, groups = None, [self._unfed]
        else:
            groups = [self._everyone] if users is None else [self._group(u) for u in users]
        for group in groups:
            group.add(subscription)
        self.subscribers += 1

        def detach() -> None:
            for group in groups:
                group.discard(subscription)
            for user in users or ():
                if not self._by_user.get(user, True):
                    del self._by_user[user]
            self.subscribers -= 1
            if not self.subscribers:
                self._idle_since = time.monotonic()

        subscription.on_close = detach
        self._idle_since = None

    def _group(self, user_id: str) -> set[Subscription]:
        return self._by_user.setdefault(user_id, set())

    def publish(self, events: Iterable[Framed]) -> None:
        for event in events:
            self.cursor = event.id
            self.recent.append(event)
            if len(self.recent) > RECENT:
                self.floor = self.recent.popleft().id
            for subscription in list(self._everyone):
                subscription.offer(event)
            for subscription in list(self._by_user.get(event.user_id, ())):
                subscription.offer(event)

    def all(self) -> list[Subscription]:
        return [
            *self._everyone,
            *(s for g in self._by_user.values() for s in g),
            *self._unfed,
        ]

    def ask_keepalives(self) -> None:
        """Once a second at most: a keepalive for every subscriber quiet for long enough."""
        now = time.monotonic()
        if now - self._checked_quiet < 1.0:
            return
        self._checked_quiet = now
        due = now - self._fanout.keepalive_seconds
        for subscription in self.all():
            if subscription.quiet_since <= due:
                subscription.ask_keepalive()

    def close_all(self) -> None:
        for subscription in self.all():
            subscription.drop(Dropped.CLOSED)

    async def shared_snapshot(self) -> SnapshotFrame:
        """A snapshot of the organisation, shared with every subscriber asking meanwhile."""
        shared = self._shared
        if shared is not None and time.monotonic() - shared.taken < SNAPSHOT_REUSE_SECONDS:
            return shared
        if self._snapshotting is None:
            self._snapshotting = asyncio.ensure_future(self._take_snapshot())
        pending = self._snapshotting
        try:
            return await asyncio.shield(pending)
        finally:
            if self._snapshotting is pending and pending.done():
                self._snapshotting = None

    async def snapshot_for(self, event_filter: EventFilter) -> tuple[bytes, int]:
        """The snapshot frame this subscriber gets (its agents only, when it names some),
        and the id of the last event it reflects."""
        shared = await self.shared_snapshot()
        if event_filter.user_ids is None:
            return shared.frame, shared.cursor
        if not shared.indexed:
            await asyncio.to_thread(shared.index)
        return shared.for_users(event_filter.user_ids), shared.cursor

    async def _take_snapshot(self) -> SnapshotFrame:
        builder = SnapshotBuilder(self.org)
        fanout = self._fanout
        _, shared = await asyncio.to_thread(
            snapshot, fanout.engine, fanout.fence, self.org, builder
        )
        self._shared = shared
        # Past its reuse the feed lets it go: only the streams still writing it hold it.
        asyncio.get_running_loop().call_later(SNAPSHOT_REUSE_SECONDS, self._expire, shared)
        return shared

    def _expire(self, shared: SnapshotFrame) -> None:
        if self._shared is shared:
            self._shared = None

    async def run(self) -> None:
        fanout = self._fanout
        # At most a buffer's worth per read: the streams' writers empty the buffers while
        # the next read waits for the database, so a burst of changes read at once (the
        # feed was busy, the database slow) drops only a subscriber that does not read,
        # never one that keeps up.
        batch = min(BATCH, fanout.buffer)
        with fanout.hub.listen(self.oid) as wake:
            while True:
                wake.clear()
                read = await asyncio.to_thread(
                    read_events, fanout.engine, fanout.fence, self.org, self.oid, self.cursor, batch
                )
                if self.tap is not None:
                    self.tap.take(read)
                self.publish(frame_event(e) for e in read)
                if len(read) >= batch:
                    continue
                self.ask_keepalives()
                if self._idle_since is not None and (
                    time.monotonic() - self._idle_since >= IDLE_SECONDS
                ):
                    fanout.forget(self)
                    return
                await asyncio.sleep(MIN_READ_INTERVAL)
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancel
                # that arrives as the wake-up does, and the feed then ran on until it was
                # idle for IDLE_SECONDS (a shutdown held 30 s; seen in the tests).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(fanout.poll_seconds):
                        await wake.wait()


class Fanout:
    """Every organisation's feed on this instance, started on its first subscriber."""

    def __init__(
        self,
        engine: Engine,
        hub: EventHub,
        fence: CommitFence,
        *,
        poll_seconds: float = 1.0,
        buffer: int = 1000,
        keepalive_seconds: float = 15.0,
        revoked_among: Callable[[set[Credential]], set[Credential]] | None = None,
        streams_per_token: int = 0,
    ) -> None:
        self.engine = engine
        self.streams = StreamSlots(streams_per_token)
        """The open streams of each token, and the cap on them (taken by the caller)."""
        self._revoked_among = revoked_among
        self._token_watch: asyncio.Task[None] | None = None
        self.keepalive_seconds = keepalive_seconds
        self.hub = hub
        self.fence = fence
        self.poll_seconds = poll_seconds
        self.buffer = buffer
        self._feeds: dict[int, OrgFeed] = {}
        self._starting: dict[int, asyncio.Future[OrgFeed]] = {}
        self.lagged = 0
        """Subscribers dropped for falling behind, since the start."""
        self._ending = False

    @property
    def subscribers(self) -> int:
        return sum(feed.subscribers for feed in self._feeds.values())

    def existing_feed(self, oid: int) -> OrgFeed | None:
        """The organisation's feed when it runs on this instance (no feed is started)."""
        return self._feeds.get(oid)

    async def feed(self, org: str, oid: int) -> OrgFeed:
        """The organisation's feed; a new one starts at the newest final event."""
        feed = self._feeds.get(oid)
        if feed is not None:
            return feed
        starting = self._starting.get(oid)
        if starting is None:
            starting = self._starting[oid] = asyncio.ensure_future(self._start(org, oid))
            starting.add_done_callback(lambda _: self._starting.pop(oid, None))
        return await asyncio.shield(starting)

    async def _start(self, org: str, oid: int) -> OrgFeed:
        cursor = await asyncio.to_thread(latest_final, self.engine, self.fence, oid)
        feed = self._feeds[oid] = OrgFeed(self, org, oid, cursor)
        feed.task = asyncio.create_task(self._run(feed), name=f"event-feed-{oid}")
        return feed

    async def _run(self, feed: OrgFeed) -> None:
        try:
            await feed.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Its subscribers resume (from the durable history) on a feed started anew.
            log.exception("the event feed of organisation %d failed", feed.oid)
            self.forget(feed)

    def forget(self, feed: OrgFeed) -> None:
        if self._feeds.get(feed.oid) is feed:
            del self._feeds[feed.oid]
        feed.close_all()

    async def subscribe(
        self,
        org: str,
        oid: int,
        cursor: int,
        event_filter: EventFilter,
        credential: Credential | None = None,
        release: Callable[[], None] = lambda: None,
    ) -> Catching:
        """A subscription attached to the organisation's feed at once, so that it buffers
        (and may be dropped) from now on, and what it missed before: from the durable
        history up to the feed's memory, then from that memory."""
        feed = await self.feed(org, oid)
        start = max(cursor, feed.floor)
        backlog = [e.frame for e in feed.recent if e.id > start and event_filter.matches(e)]
        live = max(cursor, feed.cursor)
        subscription = Subscription(event_filter, live, self.buffer, self._count_lagged)
        subscription.credential = credential
        subscription.release = release
        feed.attach(subscription)
        self._watch(subscription)
        return Catching(subscription, start, backlog)

    def attach_unfed(self, feed: OrgFeed, subscription: Subscription) -> None:
        """Attach a subscriber the feed does not hand events to (a monitor socket, fed by
        the feed's tap): counted, capped, ended when its credential is revoked and when
        the feed or the server stops, like a stream."""
        feed.attach(subscription, fed=False)
        self._watch(subscription)

    def _watch(self, subscription: Subscription) -> None:
        if self._ending:
            subscription.drop(Dropped.CLOSED)
        if (
            subscription.credential is not None
            and self._revoked_among is not None
            and self._token_watch is None
        ):
            self._token_watch = asyncio.create_task(self._watch_tokens(), name="token-watch")

    async def _watch_tokens(self) -> None:
        """End the streams whose credential was revoked (a token or a session is checked
        when a stream opens; this ends the ones already open)."""
        assert self._revoked_among is not None
        while True:
            await asyncio.sleep(TOKEN_CHECK_SECONDS)
            open_streams = [s for feed in list(self._feeds.values()) for s in feed.all()]
            held = {s.credential for s in open_streams if s.credential is not None}
            if not held:
                continue
            try:
                revoked = await asyncio.to_thread(self._revoked_among, held)
            except Exception as exc:  # the database away: check again next time
                log.warning("could not check the streams' tokens (%s)", type(exc).__name__)
                continue
            for subscription in open_streams:
                if subscription.credential in revoked:
                    subscription.drop(Dropped.REVOKED)

    def end_streams(self) -> None:
        """The server is stopping: end every open stream, and any opened from now on, at
        once (each ends its response; its client reconnects with ``Last-Event-ID``).

        An open stream never finishes its response by itself, and the HTTP server waits
        for every response to finish before it stops (up to its 10 s grace): without
        this, one open stream held each stop and restart for 10 s, then was cut off."""
        self._ending = True
        for feed in list(self._feeds.values()):
            feed.close_all()

    def _count_lagged(self) -> None:
        self.lagged += 1

    def count_lagged(self) -> None:
        """A subscriber fed elsewhere (a monitor socket) was dropped for falling behind."""
        self.lagged += 1

    async def history(
        self, org: str, oid: int, after: int, upto: int, event_filter: EventFilter
    ) -> AsyncIterator[bytes]:
        """The frames of the events in ``(after, upto]``, a final range, in batches."""
        while after < upto:
            events = await asyncio.to_thread(
                read_final, self.engine, org, oid, after, upto, BATCH, event_filter.user_ids
            )
            for event in events:
                framed = frame_event(event)
                if event_filter.matches(framed):
                    yield framed.frame
            after = events[-1].id if len(events) >= BATCH else upto

    async def close(self) -> None:
        if self._token_watch is not None:
            self._token_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._token_watch
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            feed.close_all()
            if feed.task is not None:
                feed.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feed.task
